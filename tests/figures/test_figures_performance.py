"""Figures and tables of the performance appendix, on small made-up benchmark results."""

from __future__ import annotations

import json

import matplotlib
import matplotlib.pyplot as plt
import pytest

from steerspace.figures import performance as perf
from steerspace.figures import style

MACHINE = {"cpu": "Test CPU", "usable_cpus": 2}
AUROC = {
    "config": "tiny", "modules": 2, "units": 1000, "sentences": 50, "machine": MACHINE,
    "sklearn_loop": {"extrapolated_all_units_s": 20.0, "units_timed": 100},
    "speedup_ranking_vs_sklearn": 10.0, "max_abs_diff_ranking_vs_library_all_units": 0.0,
    "library_auroc": {"best_s": 0.1}, "ranking_auroc": {"best_s": 2.0},
    "speedup_library_vs_sklearn": 200.0, "max_abs_diff_library_vs_sklearn": 1e-16,
    "target_speedup": 100, "target_max_abs_diff": 1e-9, "pass_speedup": True, "pass_diff": True,
}  # fmt: skip
FORWARD = {
    "config": "tiny", "sentences": 16, "batch_size": 4, "dtype": "float32",
    "matmul_peak": {"gflops_per_s": 100.0, "dtype": "float32"}, "target_hook_overhead": 0.1,
    "pass_record": True, "pass_intervention": False,
    "conditions": {
        "plain": {"tokens_per_s_best": 1000.0, "fraction_of_matmul_peak": 0.5, "overhead_vs_plain": 0.0},
        "record": {"tokens_per_s_best": 950.0, "fraction_of_matmul_peak": 0.47, "overhead_vs_plain": 0.05},
        "intervention": {"tokens_per_s_best": 800.0, "fraction_of_matmul_peak": 0.4, "overhead_vs_plain": 0.2},
    },
}  # fmt: skip
BATCHING = {
    "config": "tiny", "sentences": 16, "config_batch_size": 4, "best_batch_size": 8,
    "best_tokens_per_s": 310.0, "sorted_over_shuffled_at_config_batch": 1.2,
    "recommended_batch_size": 4, "config_batch_size_supported": True,
    "rule": "smallest batch size within 5% of the best sorted tokens/s",
    "rows": [
        {"batch_size": n, "order": order, "tokens_per_s": tps, "padding_fraction": pad}
        for n, tps, pad in ((1, 100.0, 0.0), (4, 300.0, 0.1), (8, 310.0, 0.2))
        for order in ("sorted", "shuffled")
    ] + [{"batch_size": 4, "order": "sorted_by_chars", "padding_fraction": 0.15}],
}  # fmt: skip
BOOK = {
    "config": "tiny", "machine": MACHINE,
    "targets": {"cold_s": 1800, "warm_s": 180, "peak_rss_bytes": 6e9},
    "runs": {
        "cold": {"wall_s": 600.0, "chapters_s": {"a": 300.0, "b": 200.0}, "build_s": 10.0},
        "warm": {"wall_s": 60.0, "chapters_s": {"a": 20.0, "b": 30.0}, "build_s": None},
    },
    "peak_tree_rss_bytes": 2e9, "max_single_process_rss_bytes": 1e9, "pass_cold": True, "pass_warm": True, "pass_rss": True,
}  # fmt: skip
VARIANTS = (perf.PLAIN, "ours", "ours, small sample", "config")


def prediction() -> dict:
    def variant(scale: float) -> dict:
        hours = {"low": 20 * scale, "mid": 14 * scale, "high": 10 * scale}
        stages = [{"stage": "embeddings", "share": 0.1, "h100_hours_mid": 0.5, "context": 40},
                  {"stage": "Wikipedia perplexity", "share": 0.9, "h100_hours_mid": 9.0,
                   "context": 512}]  # fmt: skip
        return {"flops": 1e18 * scale, "h100_hours": hours, "a100_hours": hours,
                "fraction_of_paper_flops": scale, "stages": stages}  # fmt: skip

    models = {m: {"paper_a100_hours": 100, "arch": {"max_context": 2048, "vocab": 256000},
                  "variants": {v: variant(1 / (i + 1)) for i, v in enumerate(VARIANTS)}}
              for m in ("m1", "m2")}  # fmt: skip
    gpus = {"H100 SXM": {"peak_flops": 989e12}, "A100 SXM 80GB": {"peak_flops": 312e12}}
    protocol = {"eval_languages": 22, "flores_devtest_sentences": 1012, "perplexity_stride": 512,
                "perplexity_tokens_per_target": 1e7, "k_sweep": [100, 5000],
                "generation_new_tokens": 19, "random_draws": 1}  # fmt: skip
    return {"mfu": {"low": 0.2, "mid": 0.35, "high": 0.5}, "gpus": gpus, "models": models,
            "paper_protocol": protocol, "tokens_per_sentence": 40.0}  # fmt: skip


def test_auroc_figure_draws_three_bars_on_a_log_axis_with_their_seconds():
    fig = perf.auroc_figure(AUROC)
    (ax,) = fig.axes
    assert len(ax.patches) == 3 and ax.get_xscale() == "log"
    assert sorted(p.get_width() for p in ax.patches) == [0.1, 2.0, 20.0]
    assert [t.get_text() for t in ax.texts] == ["20.00 s", "0.10 s", "2.00 s"]
    assert "1,000 units" in ax.get_title()
    assert not {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches} & {
        c.lower() for c in style.LANGUAGE_COLOURS.values()
    }
    plt.close(fig)


def test_forward_figure_one_bar_per_condition_labelled_with_its_change():
    fig = perf.forward_figure(FORWARD)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == list(perf.FORWARD_CONDITIONS)
    assert [p.get_height() for p in ax.patches] == [1000.0, 950.0, 800.0]
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == "50.0 % of peak" and "−20.0 % tokens/s vs plain" in texts[2]
    plt.close(fig)


def test_batching_figure_two_panels_two_orders_and_the_config_line():
    fig = perf.batching_figure(BATCHING)
    left, right = fig.axes
    assert [line.get_label() for line in left.get_lines()[:2]] == ["sorted by length", "shuffled"]
    assert list(right.get_lines()[0].get_ydata()) == [0.0, 10.0, 20.0]  # percent
    assert left.get_ylabel() == "real tokens per second"
    assert [t.get_text() for t in left.get_xticklabels()] == ["1", "4", "8"]
    assert any(list(line.get_xdata()) == [4, 4] for line in left.get_lines())  # config batch
    plt.close(fig)


def test_book_figure_bars_for_every_chapter_and_the_build_cold_and_warm():
    fig = perf.book_figure(BOOK)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "jupyter-book build"]
    assert len(ax.patches) == 2 * 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "cold: 10.0 min in all",
        "warm (chapters restored): 1.0 min in all",
    ]
    plt.close(fig)


def test_cost_model_figure_a_bar_per_model_and_variant_and_the_paper_as_stars():
    fig = perf.cost_model_figure(prediction())
    (ax,) = fig.axes
    assert len(ax.patches) == 2 * len(VARIANTS) and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["m1", "m2"]
    (stars,) = ax.collections[-1:]
    assert list(stars.get_offsets()[:, 1]) == pytest.approx([100 * 312 / 989] * 2)
    assert "MFU 35.0 %" in ax.get_title()
    assert "whiskers: MFU 20.0 %–50.0 %" in ax.get_title()  # the range in increasing order
    plt.close(fig)


def test_targets_table_takes_goals_from_the_results_and_names_missing_benchmarks():
    results = {"auroc": AUROC, "forward": FORWARD, "batching": BATCHING, "book": BOOK}
    table = perf.targets_table({**results, "cost_model": None})
    assert table.loc["speedup", "goal"] == "≥ 100× faster"
    assert table.loc["record", "goal"] == "≤ 10.0 % of tokens/s"
    assert table.loc["cold", "measured"] == "10.0 min on 2 cores"
    assert table.loc["intervention", "verdict"] == "fail"
    assert (table["verdict"] == "pass").sum() == 7
    empty = perf.targets_table(dict.fromkeys(perf.COMMANDS))
    assert set(empty["verdict"]) == {"—"}
    assert "python bench/auroc.py" in empty.loc["speedup", "measured"]


def test_cost_table_and_shares():
    p = prediction()
    table = perf.cost_table(p)
    assert len(table) == 2 * len(VARIANTS)
    assert "H100 h (MFU 50.0 %)" in table.columns
    assert perf.times_cheaper(p, "m1", "config") == pytest.approx(4.0)
    assert perf.stage_share(p, "m2", "Wikipedia") == 0.9


def test_results_are_read_from_a_directory_and_paths_left_out(tmp_path):
    (tmp_path / "auroc.json").write_text(json.dumps(AUROC))
    results = perf.load_results(tmp_path)
    assert results["auroc"] == AUROC and results["book"] is None
    where = perf.results_values(results, tmp_path, tmp_path.parent)
    assert where["results_dir"] == f"`{tmp_path.name}`" and "**book**" in where["not_run"]
    assert "**auroc**" not in where["not_run"] and where["machines"] == "Test CPU"
    assert perf.results_values(results, None, None)["not_run"] == "every benchmark"
    assert perf.without_paths("10 verses, /root/.cache/m/gemma-f32") == "10 verses, gemma-f32"


def test_values_of_the_prose_and_what_they_are_without_results():
    results = {"auroc": AUROC, "forward": None, "batching": BATCHING, "book": BOOK}
    values = perf.benchmark_values(results)
    assert values["auroc_speedup"] == "200.00×" and values["auroc_note"] == "none"
    assert values["auroc_all_units"] == "1,000" and values["auroc_timed"] == "100"
    assert all(values[key] == perf.NA for key in perf.FORWARD_KEYS + perf.PROFILE_KEYS)
    assert values["bat_recommended"] == "4" and values["bat_best"] == "8"
    assert values["bat_supported"] == "supported by the curve" and values["bat_sorting"] == "1.20×"
    assert values["book_rss"] == "2.00 GB" and values["work_tokens"] == perf.NA
    assert values["cpu_met"] == perf.NA and values["cpu_target"] == "30.0 min"
    assert values["anchor_tps"] == perf.NA
    assert set(values) >= set(perf.AUROC_KEYS + perf.BATCHING_KEYS + perf.OTHER_CPU_KEYS)
    assert perf.cost_values(None, unavailable="n/a") == dict.fromkeys(perf.COST_KEYS, "n/a")
    cost = perf.cost_values(prediction(), small_tokens=5e5, source="10 verses, /root/x/model")
    assert tuple(cost) == perf.COST_KEYS
    assert cost["ppl_share_min"] == "90.0 %" and cost["small_tokens"] == "500,000"
    assert cost["ppl_repeats"].startswith("4× with m1's 2,048-token window")
    assert cost["a100"].startswith("10–20 h (m1; paper 100 h)")
    assert (cost["a100_inside"], cost["a100_above"], cost["a100_below"]) == (
        "none",
        "none",
        "m1, m2",
    )
    assert cost["tps"] == "40.00" and cost["tps_source"] == "10 verses, model"
    assert (cost["protocol_languages"], cost["protocol_sentences"]) == ("22", "1,012")


PROFILE = {
    **FORWARD,
    "real_tokens": 1000,
    "model_facts": {"non_embedding_params": 1_000_000},
    "model_shape_matmul": {"flops_per_s": 4e9, "gflops_per_s": 4.0},
    "profile_s": {"matmul (linear layers)": 1.0, "GELU": 0.5, "Python, dispatch and the rest": 0.5},
}


def test_profile_figure_and_values_say_where_the_pass_spends_its_time():
    fig = perf.profile_figure(PROFILE)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "matmul (linear layers)"
    assert [t.get_text() for t in ax.texts] == ["50.0 %", "25.0 %", "25.0 %"]
    plt.close(fig)
    values = perf.profile_values(PROFILE)
    # 2·1e6·1000 FLOPs in 1 s against 4 GFLOP/s alone: half their own rate
    assert values == {
        "prof_linear": "50.0 %",
        "prof_linear_rate": "50.0 %",
        "prof_gflops": "4",
        "prof_rest": "50.0 %",
        "prof_peak": "50.0 %",
    }
    assert perf.profile_values(None) == dict.fromkeys(perf.PROFILE_KEYS, perf.NA)


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
    table = perf.work_table(book)
    assert table.loc["all", "tokens"] == 1000 and table.loc["forward", "repeated_tokens"] == 5
    assert perf.work_table(BOOK) is None
    targets = perf.targets_table({"book": book})
    assert targets.loc["repeated", "verdict"] == "pass"
    assert targets.loc["repeated", "measured"].startswith("0.5 % of 1,000")
    assert (
        targets.loc["warm_rerun", "measured"] == "5.0 min"
        and targets.loc["warm_rerun", "verdict"] == "reported"
    )
    fig = perf.book_figure(book)
    assert len(fig.axes[0].patches) == 3 * 3  # three runs × (two chapters + the build)
    plt.close(fig)


def test_the_other_cpu_projection_scales_only_the_models_seconds():
    work = {"by_kind": {"forward": {"seconds": 400.0}, "generate": {"seconds": 100.0}}}
    book = {**BOOK, "runs": {"cold": {**BOOK["runs"]["cold"], "model_work": work}}}
    slow = {**FORWARD, "dtype": "float32",
            "conditions": {"plain": {"tokens_per_s_best": 250.0}}}  # fmt: skip
    values = perf.other_cpu_values(book, FORWARD, slow)
    # 600 s cold, 500 s of it the model, 4× slower: 100 + 2,000 s = 35 min
    assert values["cpu_slower"] == "4.00×" and values["cpu_projected"] == "35.0 min"
    assert values["cpu_met"] == "missed" and values["cpu_model"] == "8.3 min"
    assert "`ATEN_CPU_CAPABILITY=avx2`" in values["cpu_env"]
    assert perf.other_cpu_values(book, FORWARD, None)["cpu_projected"] == perf.NA


def test_summary_and_the_exercises_computations():
    table = perf.targets_table(
        {"auroc": AUROC, "forward": FORWARD, "batching": BATCHING, "book": BOOK}
    )
    summary = perf.summary_values(table)
    assert (summary["passed"], summary["judged"]) == ("7", "9")
    assert summary["missed"] == (
        "Forward: intervention cost; Forward: FLOP/s against the measured matmul rate"
    )
    curve, values = perf.sorting_gain(BATCHING)
    assert list(curve.index) == [1, 4, 8] and tuple(values) == perf.SORTING_KEYS
    assert values["sorting_batch"] == "1" and values["sorting_gain"] == "1.00×"
    by_stage, stages_text = perf.largest_stages(prediction())
    assert list(by_stage.columns) == ["m1", "m2"]
    assert stages_text.startswith("m1: Wikipedia perplexity 90.0 %, then embeddings 10.0 %")


def test_the_floor_names_its_machine_or_the_command_that_measures_it():
    run = {
        "machine": {"cpu": "Test CPU", "usable_cpus": 2, "cpu_flags": ["avx2", "avx512f"]},
        "matmul_peak": {"dtype": "float32", "gflops_per_s": 200.4, "n": 2048},
    }
    table = object()  # any table: only its presence matters
    assert perf.floor_machine("book", run, table) == (
        "measured on Test CPU, AVX512, 2 cores, float32 matmul at 200 GFLOP/s (square matrices of 2048)"
    )
    hidden = perf.floor_machine(
        "avx2", {**run, "environment": {"ATEN_CPU_CAPABILITY": "avx2"}}, table
    )
    assert hidden.startswith("measured on Test CPU, AVX2 only (wider instructions hidden), 2 cores")
    assert perf.floor_machine("book", run, None) == (
        "not measured per chapter yet (run `python bench/book.py`)"
    )
    import pandas as pd

    total = pd.DataFrame({"wall / floor": [3.04]}, index=["all chapters"])
    assert perf.floor_ratio(total) == "3.0×"
    assert perf.floor_ratio(None) == perf.NA
    assert perf.same_model({"config": {"model": "m"}}, {"model": "m"})
    assert not perf.same_model({"model": "m"}, {"model": "other"})
    assert not perf.same_model({"model": "m"}, None)
