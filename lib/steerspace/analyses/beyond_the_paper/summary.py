"""The analyses of the "beyond the paper" chapter, read off the long tables of
:mod:`steerspace.analyses.beyond_the_paper.layers`, :mod:`steerspace.analyses.beyond_the_paper.abx` and :mod:`steerspace.analyses.beyond_the_paper.similarity`: which
hidden state matters, what the intervention changes there, and how retrieval gains
relate to linguistic distance. Each returns estimates per target (with their
intervals), and the values the chapter's prose glues, formatted by
:mod:`steerspace.text.statements`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from steerspace.analyses.beyond_the_paper.abx import abx_intervals
from steerspace.analyses.beyond_the_paper.dose import DOSE_COLUMNS, along_dial
from steerspace.analyses.beyond_the_paper.layers import first_state_changed
from steerspace.analyses.beyond_the_paper.similarity import (
    WALS_FEATURES,
    WALS_TITLES,
    Relation,
    relate,
    similarity_to_target,
)
from steerspace.metrics.inference import Estimate, leave_one_out_pearson
from steerspace.metrics.retrieval import target_query_frame
from steerspace.text.format import fmt, fmt_ci
from steerspace.text.statements import as_estimate, decided, per_unit, sides, value_range


def _pick(frame: pd.DataFrame, **where) -> dict[str, Estimate]:
    """target → estimate of the rows of ``frame`` matching ``where``."""
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return {row["target"]: as_estimate(row) for _, row in rows.iterrows()}


def distance_summary(distances: pd.DataFrame) -> dict[str, dict[str, Estimate]]:
    """From :func:`steerspace.analyses.beyond_the_paper.layers.distance_intervals_by_layer`, the all-languages
    distance: its change at the last state (``change_last``), the same relative to the
    original distance (``relative_last``), and, per target, the largest relative
    change at a state strictly between the embeddings and the final norm
    (``relative_peak``, keyed ``"target (state s)"``)."""
    last = int(distances["layer"].max())
    d = distances[distances["quantity"] == "all_languages"]
    rel = d[d["condition"] == "relative_change"]
    inner = rel[rel["layer"].between(1, last - 1)]
    peak = inner.loc[inner.groupby("target", sort=False)["value"].apply(lambda v: v.abs().idxmax())]
    return {
        "change_last": _pick(d, condition="change", layer=last),
        "relative_last": _pick(rel, layer=last),
        "relative_peak": {
            f"{row['target']} (state {int(row['layer'])})": as_estimate(row)
            for _, row in peak.iterrows()
        },
    }


def best_state(retrieval: pd.DataFrame, *, score: str = "cosine") -> int:
    """The hidden state where the original model retrieves best (mean accuracy over
    targets), from :func:`steerspace.analyses.beyond_the_paper.layers.retrieval_intervals_by_layer`."""
    pre = retrieval[(retrieval["score"] == score) & (retrieval["condition"] == "pre")]
    return int(pre.groupby("layer")["value"].mean().idxmax())


def at_state(frame: pd.DataFrame, state: int, **where) -> dict[str, Estimate]:
    """target → estimate at one hidden state, for rows matching ``where`` (e.g.
    ``score="cosine", condition="change"``)."""
    return _pick(frame, layer=state, **where)


def abx_at_state(abx: pd.DataFrame, state: int, task: str) -> dict[str, Estimate]:
    """target → change of the ABX error against the original model at one state
    (from :func:`steerspace.analyses.beyond_the_paper.abx.abx_intervals` rows with a ``task`` column)."""
    rows = abx[(abx["task"] == task) & (abx["condition"] == "change") & (abx["space"] != "pre")]
    rows = rows.assign(target=rows["space"].str.removeprefix("post "))
    return _pick(rows, layer=state)


def similarity_frame(
    pre: Mapping[str, np.ndarray],
    post: Mapping[str, Mapping[str, np.ndarray]],
    *,
    score: str = "cosine",
) -> pd.DataFrame:
    """Per (target, candidate) pair: retrieval and distance pre and post
    (:func:`steerspace.metrics.retrieval.target_query_frame`) joined with the candidate's
    similarity to the target (:func:`steerspace.analyses.beyond_the_paper.similarity.similarity_to_target`), and
    ``pair`` = ``"target→candidate"``."""
    frames = [
        target_query_frame(pre, space, target, score=score)
        .join(similarity_to_target(target, [c for c in pre if c != target]))
        .assign(target=target)
        for target, space in post.items()
    ]
    sim = pd.concat(frames).rename_axis("candidate").reset_index()
    return sim.assign(pair=sim["target"] + "→" + sim["candidate"])


def relate_all(
    sim: pd.DataFrame,
    measures: Sequence[str],
    outcomes: Sequence[str],
    *,
    n_boot: int,
    seed: int = 0,
) -> tuple[dict[tuple[str, str], Relation], pd.DataFrame]:
    """:func:`steerspace.analyses.beyond_the_paper.similarity.relate` (targets resampled) for every (measure,
    outcome), and the same as a table (slope, pairs, r with its interval)."""
    fits = {
        (m, o): relate(sim, m, o, cluster="target", n_boot=n_boot, seed=seed)
        for m in measures
        for o in outcomes
    }
    table = pd.DataFrame(
        [
            {
                "measure": m,
                "outcome": o,
                "slope": f.slope,
                "n_pairs": f.n_pairs,
                **f.r.as_dict("r_"),
            }
            for (m, o), f in fits.items()
        ]
    )
    return fits, table


def leave_one_out(sim: pd.DataFrame, x: str, y: str) -> dict[str, pd.DataFrame]:
    """:func:`steerspace.metrics.inference.leave_one_out_pearson` leaving out each target
    (``"target"``) and each single pair (``"pair"``), most influential first."""
    return {by: leave_one_out_pearson(sim[x], sim[y], sim[by]) for by in ("target", "pair")}


def experts_per_block(blocks: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Target × block: how many of each target's experts sit in each block (``blocks``:
    the block of every expert, per target)."""
    counts = pd.DataFrame({t: b.value_counts() for t, b in blocks.items()})
    return counts.fillna(0).astype(int).rename_axis("block").T


def at_states_table(
    frame: pd.DataFrame, states: Sequence[int], index: Sequence[str], columns: str = "condition"
) -> pd.DataFrame:
    """The point values of a long table (with ``layer`` and ``value`` columns) at the
    hidden ``states``, as rows ``index`` × ``columns``, rounded for display."""
    rows = frame[frame["layer"].isin(states)]
    return rows.pivot_table(index=index, columns=columns, values="value").round(3)


def abx_by_task(
    spaces: Mapping[str, Mapping[str, np.ndarray]],
    *,
    n_triplets: int,
    seed: int = 0,
    n_boot: int,
) -> pd.DataFrame:
    """:func:`steerspace.analyses.beyond_the_paper.abx.abx_intervals` of the ``language`` and the ``meaning`` task,
    stacked with a ``task`` column."""
    frames = {
        task: abx_intervals(spaces, task, n_triplets=n_triplets, seed=seed, n_boot=n_boot)
        for task in ("language", "meaning")
    }
    return pd.concat([f.assign(task=t) for t, f in frames.items()], ignore_index=True)


# --------------------------------------------------------------------------- prose values
# Each returns the values the chapter's sentences glue (keys without the chapter's prefix).


def distance_values(distances: pd.DataFrame) -> dict[str, str]:
    """The all-languages distance at the final norm (absolute and relative change) and
    the largest relative change before it, with how many are distinguishable from 0."""
    dsum = distance_summary(distances)
    ratio = [
        f"{t} {fmt(abs(peak.value) / abs(dsum['relative_last'][t].value), 'ratio')}"
        for t, peak in zip(dsum["relative_last"], dsum["relative_peak"].values(), strict=True)
    ]
    last = int(distances["layer"].max())
    inner = distances[
        (distances["quantity"] == "all_languages")
        & (distances["condition"] == "pre")
        & distances["layer"].between(1, last - 1)
    ]["value"]
    final = distances[
        (distances["quantity"] == "all_languages")
        & (distances["condition"] == "pre")
        & (distances["layer"] == last)
    ]["value"]
    return {
        "pre_inner": f"{fmt(inner.min(), 'dist')} to {fmt(inner.max(), 'dist')}"
        if len(inner)
        else "n/a (no state between the embeddings and the final norm)",
        "pre_final": f"{fmt(final.min(), 'dist')} to {fmt(final.max(), 'dist')}",
        "change_last": per_unit(dsum["change_last"], "dist"),
        "rel_last": per_unit(dsum["relative_last"], "pct"),
        "rel_peak": per_unit(dsum["relative_peak"], "pct"),
        "rel_peak_decided": decided(dsum["relative_peak"]),
        "rel_ratio": ", ".join(ratio),
    }


def retrieval_values(retrieval: pd.DataFrame, best: int) -> dict[str, str]:
    """Cosine retrieval at the ``best`` state and at the last one: the original
    accuracy and the intervention's change, per target and as a range."""
    last = int(retrieval["layer"].max())
    cos = retrieval[retrieval["score"] == "cosine"]
    out = {}
    for where, state in (("best", best), ("last", last)):
        pre = at_state(cos, state, condition="pre")
        gain = at_state(cos, state, condition="change")
        out[f"pre_{where}"] = per_unit(pre, "acc", sign=False)
        out[f"pre_{where}_range"] = value_range(pre, "acc", sign=False)
        out[f"gain_{where}"] = f"{per_unit(gain, 'pp')} ({decided(gain)})"
        out[f"gain_{where}_range"] = f"{value_range(gain, 'pp')} ({decided(gain)})"
    return out


def abx_values(abx: pd.DataFrame, best: int) -> dict[str, str]:
    """The original ABX errors (at the last state per task, and the meaning error at the
    ``best`` state) and the intervention's changes at the ``best`` state and at the last
    one, per task; and for how many of the targets (``middle_moved`` of
    ``middle_targets``) the meaning error's change at the ``best`` state is
    distinguishable from zero."""
    last = int(abx["layer"].max())
    pre = abx[(abx["space"] == "pre") & (abx["condition"] == "error")].set_index(["task", "layer"])
    out = {
        f"pre_last_{task}": fmt_ci(as_estimate(pre.loc[task, last]), "pct")
        for task in ("language", "meaning")
    }
    out["pre_best"] = fmt_ci(as_estimate(pre.loc["meaning", best]), "pct")
    for task in ("language", "meaning"):
        for where, state in (("best", best), ("last", last)):
            change = abx_at_state(abx, state, task)
            out[f"{task}_{where}"] = f"{per_unit(change, 'pp')} ({decided(change)})"
            out[f"{task}_{where}_range"] = f"{value_range(change, 'pp')} ({decided(change)})"
    middle = abx_at_state(abx, best, "meaning")
    out["middle_moved"] = fmt(len(middle) - len(sides(middle)["neither"]), "int")
    out["middle_targets"] = fmt(len(middle), "int")
    return out


def similarity_values(
    fits: Mapping[tuple[str, str], Relation], loo: Mapping[str, pd.DataFrame]
) -> dict[str, str]:
    """The main relation (typological distance vs Δ accuracy): r with its interval over
    targets, its pairs and targets, and whether the interval ``excludes`` or
    ``includes`` zero; the leave-one-out checks, and the other relations."""
    main = fits["typological_distance", "delta_acc"]
    return {
        "sim_r": fmt_ci(main.r, "r"),
        "sim_pairs": fmt(main.n_pairs, "int"),
        "sim_clusters": fmt(main.n_clusters, "int"),
        "sim_interval": "excludes" if main.r.excludes(0.0) else "includes",
        "sim_loo_target": ", ".join(
            f"{row.left_out} {fmt(row.r, 'r')}" for row in loo["target"].itertuples()
        ),
        "sim_loo_pair": ", ".join(
            f"{row.left_out} {fmt(row.r, 'r')}" for row in loo["pair"].head(3).itertuples()
        ),
        "sim_others": "; ".join(
            f"{m.split('_')[0]} distance vs `{o}`: r = {fmt_ci(f.r, 'r')}"
            for (m, o), f in fits.items()
            if f is not main
        ),
    }


def state_values(depth: int, blocks: Mapping[str, pd.Series]) -> dict[str, str]:
    """How hidden states are numbered (``depth`` states per sentence: ``n_states``, the
    ``n_blocks`` blocks and the number of the ``last_state``), and per target the median
    block of its experts (``blocks``) with the first state it can change."""
    median = {t: int(np.median(b)) for t, b in blocks.items()}
    return {
        "n_states": fmt(depth, "int"),
        "n_blocks": fmt(depth - 1, "int"),
        "last_state": fmt(depth - 1, "int"),
        "median_block": "; ".join(
            f"**{t}** block {fmt(b, 'int')} (state {fmt(first_state_changed(b), 'int')})"
            for t, b in median.items()
        ),
    }


def wals_list() -> str:
    """The WALS features of the typological distance as a Markdown list: each id, title
    and the values it takes."""
    return "\n".join(
        f"- `{fid}` *{WALS_TITLES[fid]}*: {', '.join(values)}"
        for fid, (_, values) in WALS_FEATURES.items()
    )


def dose_values(by_k: pd.DataFrame, by_s: pd.DataFrame) -> dict[str, str]:
    """The settings of the two dials (``by_k``, ``by_s``: the rows of
    :func:`steerspace.analyses.beyond_the_paper.dose.dose_table` along k and along the strength) and, along each,
    the gain, the share in the target language and the change of log-perplexity."""
    dials = {
        f"dose_{name}_{column}": along_dial(frame, column, kind)
        for name, frame in (("k", by_k), ("s", by_s))
        for column, kind in zip(DOSE_COLUMNS, ("pp", "pct", "nats"), strict=True)
    }
    return {
        "dose_k": ", ".join(fmt(k, "int") for k in by_k["k"]),
        "dose_s": ", ".join(fmt(s, "plain") for s in by_s["strength"]),
    } | dials
