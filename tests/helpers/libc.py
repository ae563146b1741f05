"""A stand-in for glibc, for the tests of the heap policy (steerspace.core.memory)."""

from __future__ import annotations


class FakeLibc:
    """Records the glibc calls it gets: ``("mallopt", param, value)``, ``("malloc_trim", pad)``."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad))
        return 1
