"""Progress lines of long stages reach the terminal of `steerspace book`."""

from __future__ import annotations

import io
import os

import steerspace.infra.progress as progress
from steerspace.infra.progress import ENV_VAR, forward_progress, progress_bar, progress_line


def test_progress_line():
    assert progress_line("embed es pre", 12, 48, 30.0) == (
        "embed es pre: 12/48 (25%), 0:30 elapsed, ETA 1:30"
    )
    assert progress_line("x", 0, 10, 1.0).endswith("ETA ?")
    assert progress_line("x", 3, None, 61.0) == "x: 3 done, 1:01 elapsed"


def test_progress_bar_writes_lines_only_where_asked(monkeypatch, tmp_path):
    log = tmp_path / "progress.log"
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert list(progress_bar(range(3), desc="a", total=3)) == [0, 1, 2]
    assert not log.exists()
    monkeypatch.setenv(ENV_VAR, str(log))
    monkeypatch.setattr(progress, "INTERVAL_S", 0.0)  # every step is "long"
    assert list(progress_bar(range(4), desc="stage", total=4)) == [0, 1, 2, 3]
    lines = log.read_text().splitlines()
    assert lines[0].startswith("stage: 1/4 (25%)") and lines[-1].startswith("stage: 4/4 (100%)")
    log.unlink()
    list(progress_bar(range(4), desc="quiet", total=4, disable=True))
    assert not log.exists()
    monkeypatch.setattr(progress, "INTERVAL_S", 3600.0)  # a short stage writes nothing
    list(progress_bar(range(4), desc="short", total=4))
    assert not log.exists()


def test_forward_progress_prints_what_the_kernel_writes(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    stream = io.StringIO()
    with forward_progress("finding_experts", stream=stream) as path:
        assert os.environ[ENV_VAR] == str(path)
        with open(path, "a") as fh:  # what a chapter's kernel does
            fh.write("activations es: 3/63 (5%), 0:10 elapsed, ETA 3:20\n")
    assert ENV_VAR not in os.environ and not path.exists()
    assert stream.getvalue() == (
        "[steerspace] finding_experts · activations es: 3/63 (5%), 0:10 elapsed, ETA 3:20\n"
    )
