"""Fixtures of the core tests."""

from __future__ import annotations

import ctypes

import pytest
from helpers.libc import FakeLibc


@pytest.fixture
def libc(monkeypatch) -> FakeLibc:
    """glibc replaced by a fake that records its calls (``ctypes.CDLL`` returns it)."""
    fake = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: fake)
    return fake
