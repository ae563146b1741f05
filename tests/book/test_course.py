"""The course guide: its plan follows the book, and its times come from the benchmark."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from steerspace.book import course
from steerspace.book.structure import DEFAULT_CONFIG, chapters
from steerspace.config import load_config
from steerspace.infra.bench_results import load_benchmark

ROOT = Path(__file__).resolve().parents[2]


def _rows(table: str) -> list[list[str]]:
    lines = table.splitlines()[2:]  # header and separator
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines]


def _book_json(path: Path, seconds: dict[str, float], *, bf16: bool = True) -> Path:
    path.write_text(
        json.dumps(
            {
                "benchmark": "book",
                "config": "gemma-3-270m",
                "written_utc": "2026-01-02T03:04:05Z",
                "cold_cache": "empty cache",
                "warm_cache": "the cold run's cache",
                "runs": {
                    "cold": {"wall_s": 1500.0, "chapters_s": seconds},
                    "warm": {"wall_s": 200.0, "chapters_s": {n: 12.0 for n in seconds}},
                },
                "machine": {
                    "cpu": "Test CPU",
                    "cpu_flags": ["avx2", "avx512_bf16"] if bf16 else ["avx2"],
                    "usable_cpus": 3,
                    "memory_gb": 7.9,
                },
            }
        )
    )
    return path


def test_one_row_per_chapter_of_the_toc_that_is_not_a_page(tmp_path):
    names = [n for n in chapters(ROOT) if n not in course.PAGES]
    seconds = {n: 30.0 + 60 * i for i, n in enumerate(names)}
    book = json.loads(_book_json(tmp_path / "book.json", seconds).read_text())
    rows = _rows(course.chapter_table(ROOT, book))
    assert [r[1] for r in rows] == [f"{{doc}}`{n}`" for n in names]
    numbers = course.chapter_numbers(ROOT)
    assert [r[0] for r in rows] == [str(numbers[n] or "—") for n in names]
    # times from the JSON, each as the guide writes it
    assert [r[3] for r in rows] == [course.duration(seconds[n]) for n in names]
    assert rows[0][3] == "30 s" and rows[2][3] == "2.5 min"
    assert all(r[4] == "12 s" for r in rows)
    assert [r[5] for r in rows] == [f"{course.PLAN[n].minutes} min" for n in names]


def test_a_missing_benchmark_says_not_measured_and_names_the_command(tmp_path):
    assert load_benchmark(tmp_path, course.BOOK_BENCHMARK) is None
    rows = _rows(course.chapter_table(ROOT, None))
    assert rows and all(r[3] == r[4] == "not measured" for r in rows)
    times = course.book_times_values(None)
    assert times["book_cold"] == times["book_warm"] == "not measured"
    assert "not run here" in times["book_results"] and "book.json" in times["book_results"]
    dtype = course.dtype_values(None)
    assert "not run here" in dtype["dtype_results"] and "dtype.json" in dtype["dtype_results"]
    assert dtype["dtype_overlap"] == course.NA


def test_a_chapter_missing_from_the_benchmark_is_not_measured(tmp_path):
    book = json.loads(_book_json(tmp_path / "book.json", {"finding_experts": 85.0}).read_text())
    rows = {r[1]: r for r in _rows(course.chapter_table(ROOT, book))}
    assert rows["{doc}`finding_experts`"][3] == "85 s"
    assert rows["{doc}`choice_of_k`"][3] == "not measured"


def test_the_machine_of_the_timing_is_stated(tmp_path):
    book = json.loads(_book_json(tmp_path / "b.json", {"baselines": 1.0}).read_text())
    times = course.book_times_values(book)
    machine = times["book_machine"]
    assert "Test CPU" in machine and "3 CPU cores" in machine and "with bfloat16" in machine
    assert (times["book_cold"], times["book_warm"]) == ("25.0 min", "3.3 min")
    assert times["book_warm_min"] == times["book_warm_max"] == "12 s"
    assert times["book_date"] == "2026-01-02" and times["book_config"] == "`gemma-3-270m`"
    plain = json.loads(_book_json(tmp_path / "c.json", {}, bf16=False).read_text())
    assert "without bfloat16" in course.machine_label(plain)
    assert course.has_bf16(book) is True and course.has_bf16(plain) is False


def test_the_plan_follows_the_book_and_the_sessions_hold_every_chapter_once():
    plans = course.plan_for(ROOT)
    assert [p.chapter for p in plans] == [n for n in chapters(ROOT) if n not in course.PAGES]
    scheduled = [c for s in course.SESSIONS for c in s.chapters]
    assert sorted(scheduled) == sorted(course.PLAN) and len(set(scheduled)) == len(scheduled)
    assert all(p.minutes > 0 and p.goals for p in plans)


def test_sessions_name_chapters_by_their_toc_numbers():
    numbers = course.chapter_numbers(ROOT)
    text = course.sessions_markdown(ROOT)
    lines = text.splitlines()
    assert len(lines) == len(course.SESSIONS)
    first = course.SESSIONS[0]
    wanted = sorted(numbers[n] for n in first.chapters)
    assert f"Chapters {wanted[0]}–{wanted[-1]}" in lines[0] or f"Chapter {wanted[0]}" in lines[0]
    assert f"{course.session_minutes(first)} min of class" in lines[0]
    assert not re.search(r"\bchapter \d", text), "lowercase 'chapter 4' in the sessions"


def test_chapter_numbers_count_on_across_numbered_parts(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: book/guide\n"
        "  - caption: B\n    numbered: true\n    chapters:\n      - file: book/one\n"
        "      - file: book/two\n"
        "  - caption: C\n    numbered: true\n    chapters:\n      - file: book/three\n"
        "  - caption: D\n    chapters:\n      - file: book/appendix\n"
    )
    assert course.chapter_numbers(tmp_path) == {
        "intro": None,
        "guide": None,
        "one": 1,
        "two": 2,
        "three": 3,
        "appendix": None,
    }


def test_a_chapter_without_a_plan_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(course, "course_chapters", lambda root: [*course.PLAN, "new_chapter"])
    with pytest.raises(ValueError, match="new_chapter"):
        course.plan_for(ROOT)


def test_dtype_values_read_the_benchmark_fields():
    dtype = json.loads((ROOT / "bench" / "results" / "dtype.json").read_text())
    values = course.dtype_values(dtype, {"es": "Spanish", "en": "English"})
    assert values["dtype_k"] == f"{dtype['k']:,}"
    assert set(values["dtype_targets"].split(" and ")) <= {"Spanish", "English"}
    assert values["dtype_table1"] == f"{dtype['table1_max_abs_diff']:.4f}"
    assert course._cosine(0.9999909) == "0.999991" and course._cosine(0.99941) == "0.9994"


def test_the_classroom_benchmark_without_bfloat16_is_preferred_and_named(tmp_path):
    from steerspace.book.course import classroom_values, load_classroom

    assert load_classroom(tmp_path) is None
    assert "not run here" in classroom_values(None)["cls_results"]
    chapters = {
        "finding_experts": {"seconds": 150.0, "peak_kernel_rss_bytes": 2.1e9},
        "intro": {"seconds": 6.0, "peak_kernel_rss_bytes": 0.6e9},
    }
    for name, peak in (("classroom", 1.2e9), ("classroom-no-bf16", 2.5e9)):
        record = {
            "benchmark": name,
            "chapters": chapters,
            "peak_tree_rss_bytes": peak,
            "peak_kernel_rss_bytes": 2.1e9,
            "targets": {"peak_rss_bytes": 2e9},
        }
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    chosen = load_classroom(tmp_path)
    assert chosen["benchmark"] == "classroom-no-bf16"
    values = classroom_values(chosen)
    assert values["cls_command"] == "`python bench/classroom.py --no-bf16`"
    assert values["cls_dtype"].startswith("float32")
    assert (values["cls_kernel"], values["cls_tree"]) == ("2.10 GB", "2.50 GB")
    assert (values["cls_within"], values["cls_limit"]) == ("1", "2.00 GB")
    assert values["cls_over"] == "{doc}`finding_experts`"
    assert values["cls_binder"] == course.BINDER_TEXT[False]  # one chapter does not fit
    fits = {**chosen, "chapters": {"intro": chapters["intro"]}}
    assert classroom_values(fits)["cls_binder"] == course.BINDER_TEXT[True]
    # a run with bfloat16 says nothing of Binder's float32 CPUs
    assert classroom_values({**fits, "benchmark": "classroom"})["cls_binder"] == (
        course.BINDER_TEXT[False]
    )
    assert "hidden" in values["cls_dtype"]  # no machine recorded: it may have bfloat16
    without = {**chosen, "machine": {"cpu": "AMD EPYC", "cpu_flags": ["avx2", "fma"]}}
    assert classroom_values(without)["cls_dtype"] == "float32"
    assert "without bfloat16" in classroom_values(without)["cls_machine"]
    with_bf16 = {**without, "machine": {"cpu_flags": ["avx2", "avx512_bf16"]}}
    assert "hidden from PyTorch" in classroom_values(with_bf16)["cls_dtype"]
    other = classroom_values({**chosen, "benchmark": "classroom"})
    assert "--no-bf16" not in other["cls_command"] and "float32" not in other["cls_dtype"]


def test_the_plan_and_the_classroom_size_as_values():
    plan = course.plan_values()
    minutes = [course.session_minutes(s) for s in course.SESSIONS]
    assert plan["minutes"] == f"{sum(minutes):,}" and plan["max_minutes"] == str(max(minutes))
    assert plan["sessions"] == course._number_word(len(course.SESSIONS))
    size = course.classroom_size_values(load_config("classroom"), load_config(DEFAULT_CONFIG))
    assert size["size_expert"] == f"{load_config('classroom').n_expert_sentences:,}"
