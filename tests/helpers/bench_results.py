"""Small made-up benchmark results, as ``bench/`` writes them, for the performance
appendix's tests (its figures and its numbers)."""

from __future__ import annotations

from steerspace.analyses.performance import cost

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
VARIANTS = (cost.PLAIN, "ours", "ours, small sample", "config")


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


PROFILE = {
    **FORWARD,
    "real_tokens": 1000,
    "model_facts": {"non_embedding_params": 1_000_000},
    "model_shape_matmul": {"flops_per_s": 4e9, "gflops_per_s": 4.0},
    "profile_s": {"matmul (linear layers)": 1.0, "GELU": 0.5, "Python, dispatch and the rest": 0.5},
}
