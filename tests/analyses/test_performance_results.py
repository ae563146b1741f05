"""The performance appendix's numbers: the targets table, the benchmark values of its
prose, the cost model's tables and the FLOP floor's machine, on small made-up
benchmark results."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers.bench_results import AUROC, BATCHING, BOOK, FORWARD, PROFILE, VARIANTS, prediction

from steerspace.analyses.performance import cost, floor, results


def test_targets_table_takes_goals_from_the_results_and_names_missing_benchmarks():
    measured = {"auroc": AUROC, "forward": FORWARD, "batching": BATCHING, "book": BOOK}
    table = results.targets_table({**measured, "cost_model": None})
    assert table.loc["speedup", "goal"] == "≥ 100× faster"
    assert table.loc["record", "goal"] == "≤ 10.0 % of tokens/s"
    assert table.loc["cold", "measured"] == "10.0 min on 2 cores"
    assert table.loc["intervention", "verdict"] == "fail"
    assert (table["verdict"] == "pass").sum() == 7
    empty = results.targets_table(dict.fromkeys(results.COMMANDS))
    assert set(empty["verdict"]) == {"—"}
    assert "python bench/auroc.py" in empty.loc["speedup", "measured"]


def test_cost_table_and_shares():
    p = prediction()
    table = cost.cost_table(p)
    assert len(table) == 2 * len(VARIANTS)
    assert "H100 h (MFU 50.0 %)" in table.columns
    assert cost.times_cheaper(p, "m1", "config") == pytest.approx(4.0)
    assert cost.stage_share(p, "m2", "Wikipedia") == 0.9


def test_results_are_read_from_a_directory_and_paths_left_out(tmp_path):
    (tmp_path / "auroc.json").write_text(json.dumps(AUROC))
    loaded = results.load_results(tmp_path)
    assert loaded["auroc"] == AUROC and loaded["book"] is None
    where = results.results_values(loaded, tmp_path, tmp_path.parent)
    assert where["results_dir"] == f"`{tmp_path.name}`" and "**book**" in where["not_run"]
    assert "**auroc**" not in where["not_run"] and where["machines"] == "Test CPU"
    assert results.results_values(loaded, None, None)["not_run"] == "every benchmark"
    assert results.without_paths("10 verses, /root/.cache/m/gemma-f32") == "10 verses, gemma-f32"


def test_values_of_the_prose_and_what_they_are_without_results():
    measured = {"auroc": AUROC, "forward": None, "batching": BATCHING, "book": BOOK}
    values = results.benchmark_values(measured)
    assert values["auroc_speedup"] == "200.00×" and values["auroc_note"] == "none"
    assert values["auroc_all_units"] == "1,000" and values["auroc_timed"] == "100"
    assert all(values[key] == results.NA for key in results.FORWARD_KEYS + results.PROFILE_KEYS)
    assert values["bat_recommended"] == "4" and values["bat_best"] == "8"
    assert values["bat_supported"] == "supported by the curve" and values["bat_sorting"] == "1.20×"
    assert values["book_rss"] == "2.00 GB" and values["work_tokens"] == results.NA
    assert values["cpu_met"] == results.NA and values["cpu_target"] == "30.0 min"
    assert values["anchor_tps"] == results.NA
    assert set(values) >= set(results.AUROC_KEYS + results.BATCHING_KEYS + results.OTHER_CPU_KEYS)
    assert cost.cost_values(None, unavailable="n/a") == dict.fromkeys(cost.COST_KEYS, "n/a")
    prose = cost.cost_values(prediction(), small_tokens=5e5, source="10 verses, /root/x/model")
    assert tuple(prose) == cost.COST_KEYS
    assert prose["ppl_share_min"] == "90.0 %" and prose["small_tokens"] == "500,000"
    assert prose["ppl_repeats"].startswith("4× with m1's 2,048-token window")
    assert prose["a100"].startswith("10–20 h (m1; paper 100 h)")
    assert (prose["a100_inside"], prose["a100_above"], prose["a100_below"]) == (
        "none",
        "none",
        "m1, m2",
    )
    assert prose["tps"] == "40.00" and prose["tps_source"] == "10 verses, model"
    assert (prose["protocol_languages"], prose["protocol_sentences"]) == ("22", "1,012")


def test_profile_values_say_where_the_pass_spends_its_time():
    values = results.profile_values(PROFILE)
    # 2·1e6·1000 FLOPs in 1 s against 4 GFLOP/s alone: half their own rate
    assert values == {
        "prof_linear": "50.0 %",
        "prof_linear_rate": "50.0 %",
        "prof_gflops": "4",
        "prof_rest": "50.0 %",
        "prof_peak": "50.0 %",
    }
    assert results.profile_values(None) == dict.fromkeys(results.PROFILE_KEYS, results.NA)


def test_work_table_and_the_repeated_work_target():
    work = {
        "tokens": 1000, "repeated_tokens": 5, "repeated_share": 0.005,
        "by_kind": {
            "forward": {"calls": 3.0, "sentences": 30.0, "tokens": 900.0, "repeated_tokens": 5.0, "seconds": 2.0},
            "generate": {"calls": 1.0, "sentences": 4.0, "tokens": 100.0, "repeated_tokens": 0.0, "seconds": 1.0},
        },
    }  # fmt: skip
    runs = {
        **BOOK["runs"],
        "warm_rerun": {"wall_s": 300.0, "chapters_s": {"a": 100.0, "b": 150.0}, "build_s": 10.0},
    }
    book = {**BOOK, "runs": {**runs, "cold": {**runs["cold"], "model_work": work}}}
    table = results.work_table(book)
    assert table.loc["all", "tokens"] == 1000 and table.loc["forward", "repeated_tokens"] == 5
    assert results.work_table(BOOK) is None
    targets = results.targets_table({"book": book})
    assert targets.loc["repeated", "verdict"] == "pass"
    assert targets.loc["repeated", "measured"].startswith("0.5 % of 1,000")
    assert (
        targets.loc["warm_rerun", "measured"] == "5.0 min"
        and targets.loc["warm_rerun", "verdict"] == "reported"
    )


def test_the_other_cpu_projection_scales_only_the_models_seconds():
    work = {"by_kind": {"forward": {"seconds": 400.0}, "generate": {"seconds": 100.0}}}
    book = {**BOOK, "runs": {"cold": {**BOOK["runs"]["cold"], "model_work": work}}}
    slow = {**FORWARD, "dtype": "float32",
            "conditions": {"plain": {"tokens_per_s_best": 250.0}}}  # fmt: skip
    values = results.other_cpu_values(book, FORWARD, slow)
    # 600 s cold, 500 s of it the model, 4× slower: 100 + 2,000 s = 35 min
    assert values["cpu_slower"] == "4.00×" and values["cpu_projected"] == "35.0 min"
    assert values["cpu_met"] == "missed" and values["cpu_model"] == "8.3 min"
    assert "`ATEN_CPU_CAPABILITY=avx2`" in values["cpu_env"]
    assert results.other_cpu_values(book, FORWARD, None)["cpu_projected"] == results.NA


def test_summary_and_the_exercises_computations():
    table = results.targets_table(
        {"auroc": AUROC, "forward": FORWARD, "batching": BATCHING, "book": BOOK}
    )
    summary = results.summary_values(table)
    assert (summary["passed"], summary["judged"]) == ("7", "9")
    assert summary["missed"] == (
        "Forward: intervention cost; Forward: FLOP/s against the measured matmul rate"
    )
    curve, values = results.sorting_gain(BATCHING)
    assert list(curve.index) == [1, 4, 8] and tuple(values) == results.SORTING_KEYS
    assert values["sorting_batch"] == "1" and values["sorting_gain"] == "1.00×"
    by_stage, stages_text = cost.largest_stages(prediction())
    assert list(by_stage.columns) == ["m1", "m2"]
    assert stages_text.startswith("m1: Wikipedia perplexity 90.0 %, then embeddings 10.0 %")


def test_the_floor_names_its_machine_or_the_command_that_measures_it():
    run = {
        "machine": {"cpu": "Test CPU", "usable_cpus": 2, "cpu_flags": ["avx2", "avx512f"]},
        "matmul_peak": {"dtype": "float32", "gflops_per_s": 200.4, "n": 2048},
    }
    table = object()  # any table: only its presence matters
    assert floor.floor_machine("book", run, table) == (
        "measured on Test CPU, AVX512, 2 cores, float32 matmul at 200 GFLOP/s (square matrices of 2048)"
    )
    hidden = floor.floor_machine(
        "avx2", {**run, "environment": {"ATEN_CPU_CAPABILITY": "avx2"}}, table
    )
    assert hidden.startswith("measured on Test CPU, AVX2 only (wider instructions hidden), 2 cores")
    assert floor.floor_machine("book", run, None) == (
        "not measured per chapter yet (run `python bench/book.py`)"
    )
    total = pd.DataFrame({"wall / floor": [3.04]}, index=["all chapters"])
    assert floor.floor_ratio(total) == "3.0× its floor"
    assert floor.floor_ratio(None) == "not measured against its floor yet"
    assert floor.same_model({"config": {"model": "m"}}, {"model": "m"})
    assert not floor.same_model({"model": "m"}, {"model": "other"})
    assert not floor.same_model({"model": "m"}, None)


def test_compile_values_say_when_a_cached_compile_pays_for_itself():
    run = {"dtype": "float32", "tokens": 8000, "compile_s": 80.0}
    result = {
        "speedup": 1.25,
        "max_abs_diff_over_mean_abs": 2.2e-5,
        "tolerance": 2e-4,
        "within_tolerance": True,
        "runs": {"cold": run, "warm": {**run, "compile_s": 30.0}},
        "machine": {"cpu": "Test CPU", "usable_cpus": 2, "cpu_flags": ["avx2", "avx512f"]},
    }
    values = results.compile_values(result)
    assert (values["compile_speedup"], values["compile_cold"], values["compile_warm"]) == (
        "1.25×",
        "80 s",
        "30 s",
    )
    # a fifth of the eager time saved: 30 s of compile are paid back after 150 s
    assert values["compile_breakeven"] == "150 s"
    assert (values["compile_diff"], values["compile_tol"], values["compile_within"]) == (
        "2.2e-05",
        "2e-04",
        "inside",
    )
    assert values["compile_machine"] == "Test CPU, AVX512, 2 cores"
    assert values["compile_past"] == values["compile_net"] == results.NA
    # 100 s and 300 s in the model save 20 s and 60 s, each less 30 s of compile
    chapters = results.compile_values(result, {"a": 100.0, "b": 300.0, "intro": 0.0})
    assert (chapters["compile_past"], chapters["compile_net"]) == ("1 of 2", "save at most 20 s")
    slower = results.compile_values(result, {"a": 100.0})
    assert slower["compile_net"] == "cost at least 10 s more"
    assert results.compile_values({**result, "speedup": 0.9})["compile_breakeven"] == "never"
    assert results.compile_values(None) == dict.fromkeys(results.COMPILE_KEYS, results.NA)
