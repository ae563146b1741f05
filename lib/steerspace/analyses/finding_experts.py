"""Are the experts real, and where do they sit? The two tests of paper §3.2.

- **Experts exist** (:func:`exist_evidence`): the AUROC of a target's k-th best unit
  (the weakest expert the intervention uses), with its Hanley–McNeil interval
  (:func:`hanley_mcneil_interval`), must lie above the AUROC that the best of *all*
  units reaches by chance (:func:`chance_auroc`: a one-sided Mann–Whitney threshold,
  Bonferroni-corrected over the units).
- **Experts sit in particular layers** (:func:`layers_evidence`): the total-variation
  distance between the layers of the k experts and the layers of all units
  (:func:`tv_distance`), with an interval from resampling the k experts, must lie
  above the 95th percentile of the same distance for k units drawn at random.

Both return :class:`~steerspace.claims.Evidence` for :func:`steerspace.claims.assess`.
:func:`top_k_changes` counts how many experts a different choice (e.g. max instead of
mean pooling) replaces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from steerspace import claims
from steerspace.claims import Assessment, Evidence
from steerspace.core.experts import top_k
from steerspace.metrics.inference import CI_LEVEL, Estimate, percentile_interval

ALPHA = 0.05  # level of the chance threshold of the AUROC (over all units together)
NULL_QUANTILE = 0.95  # quantile of random units' layer distance that experts must exceed


def _check_sizes(n_pos: int, n_neg: int) -> None:
    if n_pos < 1 or n_neg < 1:
        raise ValueError(f"need n_pos >= 1 and n_neg >= 1 sentences, got {n_pos} and {n_neg}")


def hanley_mcneil_interval(
    auc: float, n_pos: int, n_neg: int, *, ci: float = CI_LEVEL
) -> tuple[float, float]:
    """Normal interval of an AUROC from its Hanley–McNeil (1982) standard error,
    clipped to [0, 1]. ``n_pos``, ``n_neg``: sentences in the positive and negative set.

    The error assumes independent sentences; the negative set holds the same verses in
    several languages, so the interval is, if anything, too narrow.
    """
    _check_sizes(n_pos, n_neg)
    if not 0.0 <= auc <= 1.0:
        raise ValueError(f"auc must be in [0, 1], got {auc!r}")
    q1, q2 = auc / (2.0 - auc), 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1.0 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    half = float(norm.ppf(0.5 + ci / 2.0)) * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def chance_auroc(n_pos: int, n_neg: int, n_units: int, *, alpha: float = ALPHA) -> float:
    """The AUROC that the best of ``n_units`` units without any expertise exceeds with
    probability at most ``alpha``: the one-sided Mann–Whitney critical value at level
    ``alpha / n_units`` (Bonferroni), from the statistic's normal approximation (mean
    1/2, variance (n_pos + n_neg + 1) / (12 n_pos n_neg), no ties)."""
    _check_sizes(n_pos, n_neg)
    if n_units < 1:
        raise ValueError(f"n_units must be a positive integer, got {n_units!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    z = float(norm.isf(alpha / n_units))
    return min(1.0, 0.5 + z * math.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg)))


def kth_auroc(table: pd.DataFrame, k: int) -> float:
    """AUROC of the k-th best unit of an expert table (the weakest of the top k)."""
    return float(top_k(table, k)["auroc"].iloc[-1])


def exist_evidence(
    unit: str, table: pd.DataFrame, k: int, n_pos: int, n_neg: int, *, alpha: float = ALPHA
) -> Evidence:
    """Evidence for "experts exist" (claim ``experts.exist``) for one target: the k-th
    best AUROC with its Hanley–McNeil interval, against :func:`chance_auroc` over all
    units of ``table``."""
    auc = kth_auroc(table, k)
    low, high = hanley_mcneil_interval(auc, n_pos, n_neg)
    n_units = int(table["auroc"].notna().sum())
    threshold = chance_auroc(n_pos, n_neg, n_units, alpha=alpha)
    return Evidence(unit, Estimate(auc, low, high, n_pos + n_neg), threshold)


def exist_assessment(tables: dict[str, pd.DataFrame], k: int, n_pos: int, n_neg: int) -> Assessment:
    """Claim ``experts.exist`` at ``k``: per target, :func:`exist_evidence`; the summary
    the weakest target's k-th best AUROC."""
    evidence = [exist_evidence(t, table, k, n_pos, n_neg) for t, table in tables.items()]
    weakest = min((e.estimate for e in evidence), key=lambda est: est.value)
    return claims.assess("experts.exist", evidence, summary=weakest)


def auroc_ranking(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every unit's AUROC for every target, one row per unit (``layer``, ``unit``, then
    one ``auroc_<target>`` column each): the full ranking behind any k, so the experts
    at k = 2000 or 5000 can be audited, not only the top 500."""
    first = next(iter(tables.values()))
    out = first[["layer", "unit"]].sort_values(["layer", "unit"], ignore_index=True)
    for target, table in tables.items():
        aligned = table.set_index(["layer", "unit"])["auroc"].reindex(pd.MultiIndex.from_frame(out))
        out[f"auroc_{target}"] = aligned.to_numpy()
    return out


def layer_shares(layers: Sequence[int] | np.ndarray, n_layers: int) -> np.ndarray:
    """Share of ``layers`` (one block index per unit) in each of the ``n_layers``
    blocks."""
    idx = np.asarray(layers, dtype=np.int64)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= n_layers:
        raise ValueError(f"layers must be non-empty block indices in [0, {n_layers}), got {idx}")
    return np.bincount(idx, minlength=n_layers) / idx.size


def tv_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total-variation distance ½ Σ|p − q| between distributions over the last axis
    (0 = the same, 1 = no overlap)."""
    return 0.5 * np.abs(np.asarray(p, float) - np.asarray(q, float)).sum(axis=-1)


def layer_concentration(
    expert_layers: Sequence[int] | np.ndarray,
    unit_layers: Sequence[int] | np.ndarray,
    *,
    n_boot: int,
    n_null: int = 1000,
    seed: int = 0,
    ci: float = CI_LEVEL,
) -> tuple[Estimate, float, np.ndarray]:
    """How far the experts' layers are from the layers of all units.

    Returns the total-variation distance of the k experts with its interval, the
    :data:`NULL_QUANTILE` quantile of the same distance for k units drawn at random without replacement
    (``n_null`` draws), and those null distances.

    The interval resamples the k experts with replacement and is the *basic* bootstrap
    interval (2 × value − upper and lower percentiles, clipped at 0): a distance
    between distributions is biased upwards on every resample, and the basic interval
    corrects that bias, so that experts spread like random units give an interval
    below the random units' 95th percentile.
    """
    units = np.asarray(unit_layers, dtype=np.int64)
    experts = np.asarray(expert_layers, dtype=np.int64)
    n_layers = int(units.max()) + 1
    k = experts.size
    if k > units.size:
        raise ValueError(f"more experts ({k}) than units ({units.size})")
    q = layer_shares(units, n_layers)
    p = layer_shares(experts, n_layers)
    value = float(tv_distance(p, q))
    rng = np.random.default_rng(seed)
    boot = tv_distance(rng.multinomial(k, p, size=n_boot) / k, q)
    lo, hi = percentile_interval(boot, ci)
    estimate = Estimate(value, max(0.0, 2 * value - hi), max(0.0, 2 * value - lo), k)
    counts = np.bincount(units, minlength=n_layers)
    null = tv_distance(rng.multivariate_hypergeometric(counts, k, size=n_null) / k, q)
    return estimate, float(np.quantile(null, NULL_QUANTILE)), null


def random_layer_band(
    unit_layers: Sequence[int] | np.ndarray,
    k: int,
    *,
    n_draws: int = 1000,
    seed: int = 0,
    ci: float = CI_LEVEL,
) -> pd.DataFrame:
    """Per block: the share of all units (``all_units``) and the central ``ci`` range
    (``low``, ``high``) of the share that k units drawn at random without replacement
    put there, for figures."""
    units = np.asarray(unit_layers, dtype=np.int64)
    n_layers = int(units.max()) + 1
    counts = np.bincount(units, minlength=n_layers)
    draws = np.random.default_rng(seed).multivariate_hypergeometric(counts, k, size=n_draws) / k
    alpha = (1.0 - ci) / 2.0
    low, high = np.quantile(draws, [alpha, 1.0 - alpha], axis=0)
    return pd.DataFrame(
        {"all_units": counts / counts.sum(), "low": low, "high": high},
        index=pd.RangeIndex(n_layers, name="block"),
    )


def layers_evidence(
    unit: str, table: pd.DataFrame, k: int, *, n_boot: int, seed: int = 0
) -> Evidence:
    """Evidence for "experts sit in particular layers" (claim ``experts.layers``) for
    one target: :func:`layer_concentration` of its top-k experts, the reference being
    the random units' 95th percentile."""
    units = table.loc[table["auroc"].notna(), "layer"].to_numpy()
    estimate, null95, _ = layer_concentration(
        top_k(table, k)["layer"].to_numpy(), units, n_boot=n_boot, seed=seed
    )
    return Evidence(unit, estimate, null95)


def top_k_changes(a: pd.DataFrame, b: pd.DataFrame, k: int) -> int:
    """How many of the top-k units of expert table ``a`` are not among the top k of
    ``b`` (e.g. mean- against max-pooled AUROC of the same target)."""
    keys = [set(zip(t["module"], t["unit"], strict=True)) for t in (top_k(a, k), top_k(b, k))]
    return len(keys[0] - keys[1])


def pooling_table1(
    spaces: dict[str, dict[str, dict[str, np.ndarray]]],
    n: int,
    *,
    n_boot: int,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's Table 1 with the experts chosen by mean- or by max-pooled AUROC.

    ``spaces[target]`` maps ``"pre"``, ``"mean"`` and ``"max"`` to a space (language →
    (n, d) embeddings of the same ``n`` aligned sentences): the original model and the
    interventions on the two choices of experts. Returns the long table of every
    (target, quantity, condition) estimate with its interval from resampling the
    sentences, and the paired difference *max − mean* per (target, quantity), with
    ``text`` (formatted, signed) for prose.
    """
    from steerspace.metrics.geometry import TABLE1_QUANTITIES, table1_resampled
    from steerspace.metrics.inference import estimate_from_samples
    from steerspace.text.format import fmt_ci

    rows, diffs = [], []
    for target, by_condition in spaces.items():
        samples = table1_resampled(by_condition, [target], n_boot=n_boot, seed=seed)
        for quantity in TABLE1_QUANTITIES:
            for condition in by_condition:
                est = estimate_from_samples(samples[condition, target, quantity], n)
                rows.append(
                    {"target": target, "quantity": quantity, "condition": condition} | est.as_dict()
                )
            diff = estimate_from_samples(
                samples["max", target, quantity] - samples["mean", target, quantity], n
            )
            diffs.append(
                {"target": target, "quantity": quantity}
                | diff.as_dict()
                | {"text": fmt_ci(diff, "dist", sign=True)}
            )
    return pd.DataFrame(rows), pd.DataFrame(diffs)


# --- the finding-experts chapter's tables and the values its prose glues ----------

#: AUROC thresholds of the chapter's table of expert counts.
COUNT_THRESHOLDS = (0.7, 0.8, 0.9, 0.95, 0.99)


def expert_counts(
    tables: dict[str, pd.DataFrame], chance: float, evidence: list[Evidence], k: int
) -> pd.DataFrame:
    """Per target: units above each of :data:`COUNT_THRESHOLDS`, above the chance level,
    and the k-th best AUROC with its interval (from ``evidence``, one per target)."""
    from steerspace.core.experts import count_above
    from steerspace.text.format import fmt_ci

    counts = pd.DataFrame(
        {t: count_above(tab, list(COUNT_THRESHOLDS)) for t, tab in tables.items()}
    ).T
    counts.columns = [f"AUROC > {t}" for t in COUNT_THRESHOLDS]
    counts[f"AUROC > chance ({chance:.3f})"] = [
        int((tab["auroc"] > chance).sum()) for tab in tables.values()
    ]
    counts[f"{k}-th best AUROC [95 % interval]"] = [fmt_ci(e.estimate, "auroc") for e in evidence]
    return counts.rename_axis("target")


def exist_values(
    evidence: list[Evidence], counts: pd.DataFrame, verdict: str, chance: float
) -> dict[str, str]:
    """The values glued into "Do experts exist, beyond chance?" (glue keys without the
    chapter's ``experts_`` prefix): the test's level, the verdict, the chance level,
    each target's k-th best AUROC with its interval, and the units above chance."""
    from steerspace.text.format import fmt, fmt_ci

    above = counts[counts.columns[len(COUNT_THRESHOLDS)]]
    return {
        "alpha": fmt(ALPHA, "plain"),
        "exist_verdict": verdict,
        "chance": fmt(chance, "auroc"),
        "exist_values": "; ".join(f"**{e.unit}** {fmt_ci(e.estimate, 'auroc')}" for e in evidence),
        "above_chance": ", ".join(f"{t} {fmt(n, 'int')}" for t, n in above.items()),
    }


def last_quarter(n_blocks: int) -> tuple[range, str]:
    """The last quarter of the blocks (at least one) and its name, e.g.
    ``(range(14, 18), "blocks 14–17")``."""
    last = range(n_blocks - (n_blocks // 4 or 1), n_blocks)
    span = f"block {last[0]}" if len(last) == 1 else f"blocks {last[0]}–{last[-1]}"
    return last, span


def layer_values(
    evidence: list[Evidence],
    verdict: str,
    shares: pd.DataFrame,
    band: pd.DataFrame,
    *,
    n_boot: int,
) -> dict[str, str]:
    """The values glued into "Where in the network are they?": the per-target distance
    against random units, and the experts' share in the last quarter of the blocks."""
    from steerspace.text.format import fmt, fmt_ci

    last, span = last_quarter(len(shares))
    return {
        "n_boot": fmt(n_boot, "int"),
        "null_q": f"{fmt(100 * NULL_QUANTILE, 'int')}th percentile",
        "layers_values": "; ".join(
            f"**{e.unit}** {fmt_ci(e.estimate, 'plain')} (random units: {fmt(e.reference, 'plain')})"
            for e in evidence
        ),
        "layers_verdict": verdict,
        "last_blocks": span,
        "last_share": ", ".join(f"{t} {fmt(shares.loc[last, t].sum(), 'pct')}" for t in shares),
        "last_units": fmt(band.loc[last, "all_units"].sum(), "pct"),
    }


def push_values(experts: dict[str, pd.DataFrame]) -> dict[str, str]:
    """How far the intervention pushes the experts: the median |set − typical value|
    and the three farthest units (each ``target block b unit u: typical → set``)."""
    from steerspace.text.format import fmt

    push = pd.concat(experts.values()).assign(push=lambda d: (d["mean_pos"] - d["mean_neg"]).abs())
    far = push.nlargest(3, "push")
    return {
        "push_median": fmt(push["push"].median(), "plain"),
        "far": "; ".join(
            f"{r.target} block {r.layer} unit {r.unit}: {fmt(r.mean_neg, 'plain')} → "
            f"{fmt(r.mean_pos, 'plain')}"
            for r in far.itertuples()
        ),
    }


def pooling_comparison(
    tables: dict[str, pd.DataFrame],
    max_tables: dict[str, pd.DataFrame],
    shares: pd.DataFrame,
    max_shares: pd.DataFrame,
    k: int,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Mean- against max-pooled experts per target: how many of the top k the max
    pooling replaces, and each choice's share of experts in the last quarter of the
    blocks (``shares``, ``max_shares``: block × target, :func:`layer_shares`), as a
    table and as the values the chapter glues."""
    from steerspace.text.format import fmt

    last, span = last_quarter(len(shares))
    changes = {t: top_k_changes(tables[t], max_tables[t], k) for t in tables}
    table = pd.DataFrame(
        {
            "experts replaced": changes,
            f"share in {span} (mean)": shares.loc[last].sum().map(lambda v: fmt(v, "pct")),
            f"share in {span} (max)": max_shares.loc[last].sum().map(lambda v: fmt(v, "pct")),
        }
    ).rename_axis("target")
    text = {
        "pool_changes": ", ".join(
            f"**{t}** {fmt(c, 'int')} of {fmt(k, 'int')}" for t, c in changes.items()
        ),
        "pool_last": ", ".join(
            f"{t} {fmt(max_shares.loc[last, t].sum(), 'pct')}" for t in max_shares
        ),
        "pool_range": f"{fmt(min(changes.values()), 'int')}–{fmt(max(changes.values()), 'int')}",
    }
    return table, text


def size_values(
    n_units: int,
    n_blocks: int,
    n_targets: int,
    n_pos: int,
    n_neg: int,
    *,
    target: str,
    negatives: Sequence[str],
) -> dict[str, str]:
    """The sizes of "AUROC of every unit": the units scored (and per block), the
    targets, the sentences of each set (naming ``target``'s ``negatives``), and the
    numbers of the first and last block and hidden state."""
    from steerspace.text.format import fmt

    return {
        "n_units": fmt(n_units, "int"),
        "n_blocks": fmt(n_blocks, "int"),
        "units_per_block": fmt(n_units // n_blocks, "int"),
        "n_targets": fmt(n_targets, "int"),
        "n_pos": fmt(n_pos, "int"),
        "n_neg": fmt(n_neg, "int"),
        "negatives": ", ".join(negatives),
        "target": target,
        "block_range": f"0 to {n_blocks - 1}",
        "state_range": f"0 to {n_blocks}",
    }


def top_k_shares(tables: dict[str, pd.DataFrame], k: int, n_blocks: int) -> pd.DataFrame:
    """Block × target: the share of each target's top-k experts in each block
    (:func:`layer_shares`)."""
    return pd.DataFrame(
        {t: layer_shares(top_k(tab, k)["layer"], n_blocks) for t, tab in tables.items()}
    )


def top_experts_table(experts: dict[str, pd.DataFrame], n: int = 5) -> pd.DataFrame:
    """The ``n`` best experts of each target: block, unit, AUROC, the value the
    intervention sets (``mean_pos``) and the unit's mean over the other languages
    (``mean_neg``), rounded for display."""
    columns = ["target", "rank", "layer", "unit", "auroc", "mean_pos", "mean_neg"]
    best = pd.concat([ex.head(n) for ex in experts.values()], ignore_index=True)
    return best[columns].rename(columns={"layer": "block"}).round(4)


def pooling_table1_values(diffs: pd.DataFrame, n: int, labels: dict[str, str]) -> dict[str, str]:
    """The values of the mean/max Table 1 comparison: the sentences per language
    (``n``), how many (target, distance) pairs of ``diffs`` differ beyond their interval
    (``pool_decided`` of ``pool_pairs``) and those pairs with their difference
    (``pool_named``, "none" if none; ``labels``: quantity → its name)."""
    from steerspace.text.format import fmt

    decided = diffs[(diffs["low"] > 0) | (diffs["high"] < 0)]
    named = "; ".join(
        f"{r.target}, {labels[r.quantity].replace(chr(10), ' ')} {r.text}"
        for r in decided.itertuples()
    )
    return {
        "pool_n": fmt(n, "int"),
        "pool_decided": fmt(len(decided), "int"),
        "pool_pairs": fmt(len(diffs), "int"),
        "pool_named": named or "none",
    }
