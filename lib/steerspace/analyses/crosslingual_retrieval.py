"""Cross-lingual retrieval (paper §5, Fig. 4, Table 2, Fig. 5): tables and evidence.

The chapter embeds aligned sentences (row i of every language is the same sentence)
in the original space (``pre``) and in each target's intervened space, and keeps the
per-query hits of every query × candidate language (:func:`space_hits`). Every
interval resamples those **queries**, jointly over candidate languages and targets
(the rows are the same sentences); every correlation over candidate languages
resamples the **candidate languages**. A claim about accuracies is tested only where
the accuracy it rests on is significantly above chance
(:func:`steerspace.metrics.inference.above_chance`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from steerspace import claims
from steerspace.claims import Assessment, Evidence
from steerspace.claims.evidence import correlation, hits_change, hits_ratio, share_gaining
from steerspace.metrics.geometry import Space
from steerspace.metrics.inference import (
    CI_LEVEL,
    Estimate,
    above_chance,
    bootstrap_columns,
    leave_one_out_pearson,
    paired_hits_delta,
    percentile_interval,
)
from steerspace.metrics.retrieval import (
    TABLE2_CORRELATIONS,
    VARIANT_SCORES,
    hits_table,
    table2,
    target_query_frame,
)
from steerspace.text.format import fmt, fmt_ci

#: which accuracy a Table 2 correlation rests on: it is tested only where that one is
#: above chance ("either": pre or post; "none": distances only)
TABLE2_REQUIRES = {
    "r(acc_post,d_post)": "post",
    "r(acc_pre,d_pre)": "pre",
    "r(d_post,d_pre)": "none",
    "r(delta_acc,d_pre-d_post)": "either",
}


def space_hits(pre: Space, post: Mapping[str, Space], *, score: str) -> dict[str, pd.DataFrame]:
    """``"pre"`` and each target → :func:`steerspace.metrics.retrieval.hits_table` of that space."""
    out = {"pre": hits_table(pre, score=score)}
    out.update({target: hits_table(space, score=score) for target, space in post.items()})
    return out


def target_block(hits: pd.DataFrame, target: str) -> pd.DataFrame:
    """The hits with ``target`` as query: (queries, candidate languages sorted by code)."""
    block = hits.xs(target, axis=1, level="query")
    return block[sorted(block.columns)]


def other_block(hits: pd.DataFrame, target: str) -> pd.DataFrame:
    """The hits of every pair in which neither language is ``target`` (Fig. 5 without
    the target's row and column)."""
    keep = [(q, c) for q, c in hits.columns if target not in (q, c)]
    return hits[keep]


def _blocks(hits: Mapping[str, pd.DataFrame], target: str, part: str) -> tuple[np.ndarray, ...]:
    pick = target_block if part == "target" else other_block
    return pick(hits["pre"], target).to_numpy(), pick(hits[target], target).to_numpy()


def above_chance_flags(
    hits: Mapping[str, pd.DataFrame], targets: Sequence[str], chance: float, *, n_boot: int
) -> pd.DataFrame:
    """Per target: whether its queries' mean accuracy over candidate languages is
    significantly above ``chance`` pre and post (resampling the queries)."""
    rows = {}
    for target in targets:
        pre, post = _blocks(hits, target, "target")
        rows[target] = {
            "pre": above_chance(pre, chance, n_boot=n_boot),
            "post": above_chance(post, chance, n_boot=n_boot),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("target")


# ------------------------------------------------------------------ tables
def accuracy_table(
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    *,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Fig. 4 as a table: per target and candidate language, top-1 accuracy pre and
    post and their change, each with its 95 % interval over queries (``value, low,
    high, n``), and ``chance``."""
    rows = []
    for target in targets:
        pre = target_block(hits["pre"], target)
        post = target_block(hits[target], target)
        values = {"pre": pre.to_numpy(float), "post": post.to_numpy(float)}
        values["post − pre"] = values["post"] - values["pre"]
        for condition, array in values.items():
            for candidate, est in zip(
                pre.columns, bootstrap_columns(array, n_boot=n_boot, seed=seed), strict=True
            ):
                rows.append({"target": target, "candidate": candidate, "condition": condition,
                             **est.as_dict(), "chance": chance})  # fmt: skip
    return pd.DataFrame(rows)


def summary_table(
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    *,
    part: str = "target",
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Per target: mean top-1 accuracy over its pairs (``part="target"``: the target as
    query, Fig. 4; ``"other"``: pairs without the target, Fig. 5) pre and post, the
    change, each with its interval over queries, whether pre and post are above chance,
    and ``chance``."""
    if part not in ("target", "other"):
        raise ValueError(f"part must be 'target' or 'other', got {part!r}")
    rows = []
    for target in targets:
        pre, post = _blocks(hits, target, part)
        pre_est, post_est = bootstrap_columns(
            np.column_stack([pre.mean(1), post.mean(1)]), n_boot=n_boot, seed=seed
        )
        rows.append(
            {
                "target": target,
                "pairs": pre.shape[1],
                **pre_est.as_dict("pre_"),
                **post_est.as_dict("post_"),
                **paired_hits_delta(pre, post, n_boot=n_boot, seed=seed).as_dict("change_"),
                "pre_above_chance": above_chance(pre, chance, n_boot=n_boot),
                "post_above_chance": above_chance(post, chance, n_boot=n_boot),
                "chance": chance,
            }
        )
    return pd.DataFrame(rows).set_index("target")


def gains(table: pd.DataFrame) -> pd.DataFrame:
    """The paper's summary of Fig. 4 (§5: median and maximum gain over candidate
    languages) from :func:`accuracy_table`: per target, ``median``, ``max``, ``mean``
    and ``min`` of post − pre (fractions)."""
    change = table[table["condition"] == "post − pre"]
    return change.groupby("target", sort=False)["value"].agg(["median", "max", "mean", "min"])


def delta_marks(
    hits: Mapping[str, pd.DataFrame], target: str, *, n_boot: int, seed: int = 0
) -> pd.DataFrame:
    """Fig. 5 with its evidence: per query × candidate pair, the change of top-1 accuracy
    (post − pre) and whether its 95 % interval over queries excludes 0.

    Returns a long frame: ``query``, ``candidate``, ``value``, ``low``, ``high``,
    ``excludes_zero``."""
    pre, post = hits["pre"], hits[target][hits["pre"].columns]
    diff = post.to_numpy(float) - pre.to_numpy(float)
    rows = [
        {"query": q, "candidate": c, **est.as_dict(), "excludes_zero": est.excludes(0.0)}
        for (q, c), est in zip(
            pre.columns, bootstrap_columns(diff, n_boot=n_boot, seed=seed), strict=True
        )
    ]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ evidence
def change_evidence(
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    *,
    part: str,
    n_boot: int,
    seed: int = 0,
) -> tuple[list[Evidence], Estimate]:
    """Claims ``retrieval.target_query`` (``part="target"``) and
    ``retrieval.other_queries`` (``"other"``): per target, the change of the mean top-1
    accuracy over its pairs (paired bootstrap over queries; testable where pre or post
    is above chance), and the mean over targets (the same queries resampled jointly)."""
    if part not in ("target", "other"):
        raise ValueError(f"part must be 'target' or 'other', got {part!r}")
    units, before, after = [], [], []
    for target in targets:
        pre, post = _blocks(hits, target, part)
        units.append(hits_change(target, pre, post, chance, n_boot=n_boot, seed=seed))
        before.append(pre.mean(1, keepdims=True))
        after.append(post.mean(1, keepdims=True))
    return units, paired_hits_delta(np.hstack(before), np.hstack(after), n_boot=n_boot, seed=seed)


def _per_target_and_overall(
    measure: Callable[..., Evidence],
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    *,
    n_boot: int,
    seed: int,
) -> tuple[list[Evidence], Estimate]:
    """``measure`` on each target's (pre, post) hits with the target as query, and on
    all targets' hits together (unit ``"all"``)."""
    units, before, after = [], [], []
    for target in targets:
        pre, post = _blocks(hits, target, "target")
        units.append(measure(target, pre, post, chance, n_boot=n_boot, seed=seed))
        before.append(pre)
        after.append(post)
    overall = measure("all", np.hstack(before), np.hstack(after), chance, n_boot=n_boot,
                      seed=seed)  # fmt: skip
    return units, overall.estimate


def ratio_evidence(
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    *,
    n_boot: int,
    seed: int = 0,
) -> tuple[list[Evidence], Estimate]:
    """Claim ``retrieval.two_x``: per target, post / pre mean top-1 accuracy over its
    candidate languages (bootstrap over queries; testable where pre is above chance,
    reference 2); and the same ratio over all targets together."""
    return _per_target_and_overall(hits_ratio, hits, targets, chance, n_boot=n_boot, seed=seed)


def majority_evidence(
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    *,
    n_boot: int,
    seed: int = 0,
) -> tuple[list[Evidence], Estimate]:
    """Claim ``retrieval.majority``: per target, the share of candidate languages whose
    accuracy rises (bootstrap over queries; reference one half); and the share over all
    (target, candidate) pairs."""
    return _per_target_and_overall(share_gaining, hits, targets, chance, n_boot=n_boot, seed=seed)


def best_pair(
    hits: Mapping[str, pd.DataFrame], targets: Sequence[str], chance: float, *, n_boot: int
) -> dict[str, float | str] | None:
    """The (target, candidate) pair with the largest post / pre top-1 accuracy among
    the pairs whose pre accuracy is above chance: a description (the paper's "up to"),
    never a verdict, since a maximum over many pairs is chosen after the fact. ``None``
    when no pair is above chance before."""
    best = None
    for target in targets:
        pre, post = target_block(hits["pre"], target), target_block(hits[target], target)
        for candidate in pre.columns:
            before, after = pre[candidate].to_numpy(), post[candidate].to_numpy()
            if not above_chance(before, chance, n_boot=n_boot):
                continue
            ratio = float(after.mean() / before.mean())
            if best is None or (ratio, before.mean()) > (best["ratio"], best["pre"]):
                best = {"pair": f"{target}→{candidate}", "ratio": ratio,
                        "pre": float(before.mean()), "post": float(after.mean())}  # fmt: skip
    return best


def seen_gap_evidence(
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    seen: Mapping[str, bool | None],
    *,
    n_boot: int,
    seed: int = 0,
) -> tuple[list[Evidence], Estimate] | None:
    """Claim ``retrieval.seen_larger``: per target, the mean gain (post − pre) of the
    candidate languages seen in pre-training minus that of the unseen ones, with its
    interval over queries; and the mean over targets (queries resampled jointly).
    ``None`` when a candidate's flag is unknown (``None``)."""
    if any(seen.get(lang) is None for lang in hits["pre"].columns.get_level_values("candidate")):
        return None
    units, gaps = [], []
    for target in targets:
        pre, post = target_block(hits["pre"], target), target_block(hits[target], target)
        change = post.to_numpy(float) - pre.to_numpy(float)
        is_seen = np.array([bool(seen[c]) for c in pre.columns])
        if is_seen.all() or not is_seen.any():
            units.append(Evidence(target, Estimate(np.nan, np.nan, np.nan, len(change)),
                                  testable=False, why_not="all candidates seen, or none"))  # fmt: skip
            continue
        gap = change[:, is_seen].mean(1) - change[:, ~is_seen].mean(1)
        gaps.append(gap)
        (estimate,) = bootstrap_columns(gap[:, None], n_boot=n_boot, seed=seed)
        ok = above_chance(pre.to_numpy(), chance, n_boot=n_boot) or above_chance(
            post.to_numpy(), chance, n_boot=n_boot
        )
        why = "" if ok else f"accuracy not above chance ({fmt(chance, 'acc')}) pre or post"
        units.append(Evidence(target, estimate, 0.0, ok, why))
    if not gaps:
        return units, Estimate(np.nan, np.nan, np.nan, 0)
    (summary,) = bootstrap_columns(np.mean(gaps, axis=0)[:, None], n_boot=n_boot, seed=seed)
    return units, summary


# ------------------------------------------------------------------ Table 2
def table2_checked(
    frames: Mapping[str, pd.DataFrame], flags: pd.DataFrame, chance: float
) -> pd.DataFrame:
    """The paper's Table 2 (:func:`steerspace.metrics.retrieval.table2`) with what decides it:

    - ``testable`` / ``why_not``: the accuracy a correlation rests on
      (:data:`TABLE2_REQUIRES`) must be above chance (``flags`` from
      :func:`above_chance_flags`), else its r is noise and gets no verdict;
    - ``loo_min``, ``loo_max``, ``loo_most``: the range of r with each candidate
      language left out in turn, and the language whose removal moves r most
      (does the correlation rest on one point?).
    """
    out = table2(frames)
    testable, why, lo, hi, most = [], [], [], [], []
    for row in out.itertuples(index=False):
        need = TABLE2_REQUIRES[row.correlation]
        f = flags.loc[row.query_language]
        ok = need == "none" or (f["pre"] or f["post"] if need == "either" else f[need])
        testable.append(bool(ok))
        shown = "pre or post" if need == "either" else need
        why.append("" if ok else f"accuracy {shown} not above chance ({fmt(chance, 'acc')})")
        x, y = TABLE2_CORRELATIONS[row.correlation]
        frame = frames[row.query_language]
        loo = leave_one_out_pearson(frame[x], frame[y], frame.index.to_numpy())
        lo.append(float(loo["r"].min()))
        hi.append(float(loo["r"].max()))
        most.append(str(loo["left_out"].iloc[0]))
    return out.assign(testable=testable, why_not=why, loo_min=lo, loo_max=hi, loo_most=most)


def table2_evidence(
    table: pd.DataFrame, correlations: Sequence[str], *, reference: float = 0.0
) -> list[Evidence]:
    """Evidence (one unit per target and correlation) for a Table 2 claim from
    :func:`table2_checked`; units are named ``target`` or ``target (pre|post)``."""
    names = {"r(acc_post,d_post)": "post", "r(acc_pre,d_pre)": "pre"}
    units = []
    for row in table[table["correlation"].isin(correlations)].itertuples(index=False):
        name = row.query_language
        if len(correlations) > 1:
            name += f" ({names.get(row.correlation, row.correlation)})"
        units.append(correlation(name, row._asdict(), reference=reference,
                                 testable=row.testable, why_not=row.why_not))  # fmt: skip
    return units


def mean_correlation(
    frames: Mapping[str, pd.DataFrame],
    units: Sequence[tuple[str, str]],
    *,
    n_boot: int,
    seed: int = 0,
) -> Estimate:
    """The mean of Table 2 correlations over ``units`` ((target, correlation) pairs; the
    paper's text averages them over targets), with an interval that resamples the
    candidate languages jointly for all units (a drawn language counts for every target
    it is a candidate of). NaN when a unit's r is undefined."""
    if not units:
        raise ValueError("need at least one (target, correlation) unit to average over")
    languages = sorted(set().union(*(frames[t].index for t, _ in units)))
    data = []
    for target, name in units:
        x, y = TABLE2_CORRELATIONS[name]
        frame = frames[target].reindex(languages)
        data.append((frame[x].to_numpy(float), frame[y].to_numpy(float)))

    def mean_r(rows: np.ndarray) -> float:
        rs = []
        for xs, ys in data:
            keep = rows[np.isfinite(xs[rows]) & np.isfinite(ys[rows])]
            a, b = xs[keep], ys[keep]
            if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
                return float("nan")
            rs.append(float(np.corrcoef(a, b)[0, 1]))
        return float(np.mean(rs))

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(languages), size=(n_boot, len(languages)))
    samples = np.array([mean_r(rows) for rows in draws])
    low, high = percentile_interval(samples, CI_LEVEL)
    return Estimate(mean_r(np.arange(len(languages))), low, high, len(languages))


# ------------------------------------------------------------------ formatted
def summary_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`summary_table` rows (with ``score`` and ``part`` columns) written as the
    book writes numbers: accuracies with their intervals, the change in points, chance."""

    def est(row, prefix: str) -> Estimate:
        return Estimate(row[f"{prefix}value"], row[f"{prefix}low"], row[f"{prefix}high"],
                        int(row[f"{prefix}n"]))  # fmt: skip

    rows = []
    for target, row in summary.iterrows():
        marks = {True: "", False: " (at chance)"}
        rows.append({
            "queries": row["part"], "score": row["score"], "target": target,
            "pre": fmt_ci(est(row, "pre_"), "acc") + marks[bool(row["pre_above_chance"])],
            "post": fmt_ci(est(row, "post_"), "acc") + marks[bool(row["post_above_chance"])],
            "post − pre": fmt_ci(est(row, "change_"), "pp", sign=True),
            "chance": fmt(row["chance"], "acc"),
        })  # fmt: skip
    return pd.DataFrame(rows).set_index(["queries", "score", "target"])


def table2_cells(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """:func:`table2_checked` (with a ``score`` column) in the paper's layout: one row
    per (model, query language), one column per correlation, ``r [low, high]``; ``*``
    marks p < 0.05 and ``†`` a correlation on accuracies at chance (no verdict)."""
    rows = []
    for row in table.itertuples(index=False):
        text = fmt_ci(Estimate(row.r, row.ci_low, row.ci_high, row.n), "r")
        text += ("*" if row.significant else "") + ("" if row.testable else " †")
        rows.append({"model": f"{label}, {row.score}", "query": row.query_language,
                     "correlation": row.correlation, "value": text})  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.pivot_table(index=["model", "query"], columns="correlation", values="value",
                             aggfunc="first", sort=False)[list(TABLE2_CORRELATIONS)]  # fmt: skip


def paper_table2_cells() -> pd.DataFrame:
    """The paper's Table 2 in the layout of :func:`table2_cells` (its numbers as
    printed, written by :func:`steerspace.text.format.fmt_ci`)."""
    from steerspace.data.paper import paper_table

    paper = paper_table("table2_correlations")
    cells = [fmt_ci(Estimate(r, lo, hi, 0), "r") for r, lo, hi in
             paper[["r", "ci_low", "ci_high"]].itertuples(index=False)]  # fmt: skip
    wide = paper.assign(value=cells, query=paper["query_language_iso"]).pivot_table(
        index=["model", "query"], columns="correlation", values="value", aggfunc="first", sort=False
    )
    return wide[list(TABLE2_CORRELATIONS)]


# ------------------------------------------------------------------ assessments
def table2_frames(
    pre: Space,
    post: Mapping[str, Space],
    seen: Mapping[str, bool | None],
    *,
    score: str,
) -> dict[str, pd.DataFrame]:
    """Per target, :func:`steerspace.metrics.retrieval.target_query_frame` over the candidate
    languages that enter Table 2: all but those known to be unseen in pre-training (the
    paper keeps the seen ones)."""
    out = {}
    for target, space in post.items():
        frame = target_query_frame(pre, space, target, score=score)
        out[target] = frame.loc[[seen.get(c) is not False for c in frame.index]]
    return out


#: Table 2's claims → the correlations they rest on, and the reference they compare with
TABLE2_CLAIMS = {
    "table2.predictive_post": (("r(acc_post,d_post)",), 0.0),
    "table2.predictive_pre": (("r(acc_pre,d_pre)",), 0.0),
    "table2.positive": (("r(d_post,d_pre)",), 0.0),
    "table2.gain_vs_shrink": (("r(delta_acc,d_pre-d_post)",), 0.0),
    "retrieval.alignment_correlation": (("r(acc_pre,d_pre)", "r(acc_post,d_post)"), -0.3),
}


def table2_assessments(
    table: pd.DataFrame,
    frames: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    n_boot: int,
    seed: int = 0,
) -> list[Assessment]:
    """Table 2's claims (:data:`TABLE2_CLAIMS`) from :func:`table2_checked` with a
    ``score`` column (``frames[score]`` are its inputs): one unit per target and
    correlation, the summary the mean r over the testable units
    (:func:`mean_correlation`; none when no unit is testable). ``table2.positive``
    involves distances only, the same for every score: it is assessed once."""
    out = []
    for claim_id, (names, reference) in TABLE2_CLAIMS.items():
        variants = claims.claim(claim_id).variants
        for score in dict.fromkeys(table["score"]):
            if variants == ("",) and out and out[-1].claim.id == claim_id:
                continue
            part = table[(table["score"] == score) & table["correlation"].isin(names)]
            units = table2_evidence(part, names, reference=reference)
            used = [(row.query_language, row.correlation)
                    for row, unit in zip(part.itertuples(index=False), units, strict=True)
                    if unit.testable]  # fmt: skip
            summary = (
                mean_correlation(frames[score], used, n_boot=n_boot, seed=seed) if used else None
            )
            variant = score if variants != ("",) else ""
            out.append(claims.assess(claim_id, units, variant=variant, summary=summary))
    return out


def target_query_assessments(
    hits: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    chance: float,
    seen: Mapping[str, bool | None],
    *,
    variant: str,
    model: str,
    n_boot: int,
    seed: int = 0,
) -> list[Assessment]:
    """Claims ``retrieval.target_query``, ``retrieval.majority``, ``retrieval.two_x``,
    ``retrieval.seen_larger`` and ``retrieval.other_queries`` for one score
    ``variant``."""
    kw = {"n_boot": n_boot, "seed": seed}
    units, overall = change_evidence(hits, targets, chance, part="target", **kw)
    out = [claims.assess("retrieval.target_query", units, variant=variant, summary=overall)]
    units, overall = majority_evidence(hits, targets, chance, **kw)
    out.append(claims.assess("retrieval.majority", units, variant=variant, summary=overall))
    units, overall = ratio_evidence(hits, targets, chance, **kw)
    best = best_pair(hits, targets, chance, n_boot=n_boot)
    out.append(claims.assess("retrieval.two_x", units, variant=variant, summary=overall,
                             details={"best_pair": best}))  # fmt: skip
    gaps = seen_gap_evidence(hits, targets, chance, seen, **kw)
    if gaps is None:
        why = f"which languages {model} saw in pre-training is unknown"
        out.append(claims.not_testable("retrieval.seen_larger", why, variant=variant))
    else:
        out.append(
            claims.assess("retrieval.seen_larger", gaps[0], variant=variant, summary=gaps[1])
        )
    units, overall = change_evidence(hits, targets, chance, part="other", **kw)
    out.append(claims.assess("retrieval.other_queries", units, variant=variant, summary=overall))
    return out


def assessments(
    pre: Space,
    post: Mapping[str, Space],
    seen: Mapping[str, bool | None],
    *,
    model: str,
    n_boot: int,
    seed: int = 0,
) -> list[Assessment]:
    """Every claim of the chapter on the spaces ``pre`` and ``post`` (target → space):
    the retrieval claims for each score, and Table 2's."""
    targets = list(post)
    chance = 1.0 / len(next(iter(pre.values())))
    out, tables, frames = [], [], {}
    for variant in claims.SCORES:
        hits = space_hits(pre, post, score=VARIANT_SCORES[variant])
        out += target_query_assessments(hits, targets, chance, seen, variant=variant,
                                        model=model, n_boot=n_boot, seed=seed)  # fmt: skip
        frames[variant] = table2_frames(pre, post, seen, score=VARIANT_SCORES[variant])
        flags = above_chance_flags(hits, targets, chance, n_boot=n_boot)
        tables.append(table2_checked(frames[variant], flags, chance).assign(score=variant))
    out += table2_assessments(pd.concat(tables), frames, n_boot=n_boot, seed=seed)
    return out


def sign_check(table: pd.DataFrame) -> pd.DataFrame:
    """The leave-one-out check of :func:`table2_checked`: the testable correlations whose
    interval excludes zero (once per value: ``r(d_post,d_pre)`` is the same for every
    score), with ``sign_kept``: whether r keeps its sign whichever candidate is left out."""
    decided = table[table["testable"] & ((table["ci_low"] > 0) | (table["ci_high"] < 0))]
    decided = decided.drop_duplicates(["query_language", "correlation", "r"])
    kept = np.sign(decided["loo_min"]) == np.sign(decided["loo_max"])
    columns = ["score", "query_language", "correlation", "r", "loo_min", "loo_max", "loo_most"]
    return decided[[c for c in columns if c in decided]].assign(sign_kept=kept.to_numpy())


#: the paper's summary of Fig. 4 for Spanish (§5), gains in percentage points
PAPER_GAINS = pd.DataFrame(
    {"median": [32.0, 14.0, 0.5], "max": [74.0, 89.0, 12.0]},
    index=pd.Index(["Aya-8B (es)", "Bloom-7B (es)", "PolyLM-13B (es)"], name="paper, points"),
)


def per_score(
    hits: Mapping[str, Mapping[str, pd.DataFrame]], table, *args, **kwargs
) -> pd.DataFrame:
    """``table(hits[score], *args, **kwargs)`` for every score, stacked with a ``score``
    column (e.g. :func:`accuracy_table` by inner product and by cosine)."""
    return pd.concat([table(h, *args, **kwargs).assign(score=score) for score, h in hits.items()])


# ------------------------------------------------------------------ the chapter
def space_values(pre: Space, n_sentences: int, chance: float) -> dict[str, str]:
    """The candidates per query, the chance accuracy, and the share of the mean squared
    norm of the ``pre`` embeddings (all languages) held by its largest dimension."""
    squares = (np.concatenate(list(pre.values())) ** 2).mean(0)
    return {
        "n": fmt(n_sentences, "int"),
        "chance": fmt(chance, "acc"),
        "top_share": fmt(float(squares.max() / squares.sum()), "pct"),
    }


def summary_by_part(
    hits: Mapping[str, Mapping[str, pd.DataFrame]],
    targets: Sequence[str],
    chance: float,
    *,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`summary_table` for every score (``hits[score]``) and both parts, stacked
    with ``score`` and ``part`` (``"target as query"``, ``"other queries"``) columns."""
    parts = {"target as query": "target", "other queries": "other"}
    return pd.concat(
        per_score(hits, summary_table, targets, chance, part=part, n_boot=n_boot, seed=seed).assign(
            part=name
        )
        for name, part in parts.items()
    )


def table2_per_score(
    frames: Mapping[str, Mapping[str, pd.DataFrame]],
    flags: Mapping[str, pd.DataFrame],
    chance: float,
) -> pd.DataFrame:
    """:func:`table2_checked` for every score (``frames[score]``, ``flags[score]``),
    stacked with a ``score`` column."""
    return pd.concat(
        table2_checked(f, flags[score], chance).assign(score=score) for score, f in frames.items()
    )


def seen_unknown(seen: Mapping[str, bool | None]) -> bool:
    """Whether no language's pre-training flag is known (all ``None``)."""
    return all(flag is None for flag in seen.values())


def table2_values(
    frames: Mapping[str, pd.DataFrame], seen: Mapping[str, bool | None]
) -> dict[str, str]:
    """The candidates per query of Table 2 (``frames``: :func:`table2_frames` of one
    score), whether the pre-training flags of the model's languages are ``known`` or
    ``unknown``, and which candidates Table 2 keeps therefore: ``the seen ones`` (as
    the paper does) or ``all`` (glue keys without the chapter's ``retrieval_`` prefix)."""
    unknown = seen_unknown(seen)
    return {
        "n_candidates": fmt(len(next(iter(frames.values()))), "int"),
        "seen_flags": "unknown" if unknown else "known",
        "seen_kept": "all" if unknown else "the seen ones",
    }
