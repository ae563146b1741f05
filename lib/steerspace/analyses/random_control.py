"""The random-unit control of paper §7 and App. G: its spaces, hits and evidence.

The paper sets k units drawn at random to the experts' activation values and repeats
its analyses. The book runs two controls, each over several seeds (a seed = one draw
of units):

- ``"experts' values"`` (:data:`CONTROLS`): the paper's control, the i-th drawn unit
  gets the i-th expert's value (``Pipeline.intervention(..., values="experts")``);
- ``"own means"``: each drawn unit gets its own positive-set mean, a milder control.

Every comparison is paired: the conditions (original model, experts, each control and
seed) embed the same aligned sentences, retrieval hits are per query, and distances
are resampled over the same sentence rows (:func:`distance_samples`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from steerspace.claims import Assessment, Evidence, assess, not_testable
from steerspace.claims.evidence import margin_above_chance, over_draws, testable
from steerspace.metrics.geometry import TABLE1_QUANTITIES, Space, table1_resampled
from steerspace.metrics.inference import (
    Estimate,
    estimate_from_samples,
    mean_samples,
    two_level_samples,
)
from steerspace.metrics.retrieval import top1_hits
from steerspace.text.format import fmt_ci

if TYPE_CHECKING:
    from steerspace.pipeline import Pipeline

#: control name (the claims' variant and the figures' condition) → ``values`` argument
#: of :meth:`steerspace.pipeline.Pipeline.intervention`
CONTROLS = {"experts' values": "experts", "own means": "own"}
#: the conditions every control table holds, in the order figures draw them
CONDITIONS = ("pre", "experts", *CONTROLS)

Key = tuple[str, str, int]  # (target, control, seed)


def check_control(control: str) -> str:
    """``control`` if it is one of :data:`CONTROLS`, else ``ValueError``."""
    if control not in CONTROLS:
        raise ValueError(f"control must be one of {list(CONTROLS)}, got {control!r}")
    return control


def control_seeds(random_seeds: Sequence[int], own_mean_seeds: Sequence[int]) -> dict:
    """control → its seeds (the config's ``random_seeds`` and ``own_mean_seeds``)."""
    return {"experts' values": tuple(random_seeds), "own means": tuple(own_mean_seeds)}


def head(space: Space, n: int) -> dict[str, np.ndarray]:
    """The first ``n`` sentences of every language of ``space``."""
    return {lang: x[:n] for lang, x in space.items()}


def condition_keys(targets: Sequence[str], seeds: Mapping[str, Sequence[int]]) -> list[Key]:
    """Every (target, condition, seed) of a control run: ``pre`` and ``experts`` with
    seed 0, each control with its seeds."""
    keys = []
    for target in targets:
        keys += [(target, "pre", 0), (target, "experts", 0)]
        keys += [(target, check_control(c), s) for c, ss in seeds.items() for s in ss]
    return keys


def control_spaces(pipe: Pipeline, n: int, *, k: int) -> dict[Key, dict[str, np.ndarray]]:
    """(target, condition, seed) → the space of the first ``n`` evaluation sentences of
    every language, with ``k`` experts or random units (pre and experts: the cached full
    spaces, cut; the controls: new forward passes, cached)."""
    cfg = pipe.cfg
    seeds = control_seeds(cfg.random_seeds, cfg.own_mean_seeds)
    pre = head(pipe.space(), n)
    experts = {t: head(space, n) for t, space in pipe.post_spaces(k=k).items()}
    corpus = pipe.eval_corpus.select(stop=n)
    out: dict[Key, dict[str, np.ndarray]] = {}
    for key in condition_keys(cfg.targets, seeds):
        target, condition, seed = key
        if condition == "pre":
            out[key] = pre
        elif condition == "experts":
            out[key] = experts[target]
        else:
            iv = pipe.intervention(target, k=k, random_seed=seed, values=CONTROLS[condition])
            groups = {
                f"control-{lang}": (
                    list(corpus.sentences(lang)),
                    corpus.select([lang]).fingerprint(),
                )
                for lang in pre
            }  # every language under one control in one forward pass
            embedded = pipe.embed_groups(groups, iv)
            out[key] = {lang: embedded[f"control-{lang}"] for lang in pre}
    return out


# ------------------------------------------------------------------ distances
def distance_samples(
    spaces: Mapping[Key, Space], *, n_boot: int, seed: int
) -> dict[tuple[str, str, int, str], np.ndarray]:
    """Table 1's quantities in every space of ``spaces`` (as :func:`control_spaces`
    returns them), on the data and on resamples of the sentence rows
    (:func:`steerspace.metrics.geometry.table1_resampled`).

    One call per target over the dict of its spaces {pre, experts, every control and
    seed}, each with the same ``seed``: every call draws the same sentence rows, so all
    changes (random − experts, experts − pre, and across targets) are paired.

    Returns (target, condition, seed, quantity) → (1 + n_boot,) array.
    """
    out = {}
    for target in dict.fromkeys(t for t, _, _ in spaces):
        mine = {f"{c}|{s}": x for (t, c, s), x in spaces.items() if t == target}
        samples = table1_resampled(mine, [target], reference="pre|0", n_boot=n_boot, seed=seed)
        for (label, _, quantity), values in samples.items():
            if quantity in TABLE1_QUANTITIES:
                condition, _, s = label.partition("|")
                out[target, condition, int(s), quantity] = values
    return out


def _draws(samples: Mapping, target: str, condition: str, quantity: str) -> list[np.ndarray]:
    return [v for (t, c, _, q), v in samples.items() if (t, c, q) == (target, condition, quantity)]


def distance_table(samples: Mapping, n: int, *, n_boot: int, seed: int = 0) -> pd.DataFrame:
    """One row per (target, quantity, condition): the value with its 95 % interval
    (``value, low, high, n``: for a control, the mean over its draws with an interval
    over draws and sentences together) and the single draws' values (``seed_values``,
    ``seed_min``, ``seed_max``)."""
    keys = dict.fromkeys((t, q) for t, _, _, q in samples)
    rows = []
    for target, quantity in keys:
        for condition in CONDITIONS:
            draws = _draws(samples, target, condition, quantity)
            if not draws:
                continue
            est = estimate_from_samples(two_level_samples(np.vstack(draws), n_boot=n_boot,
                                                          seed=seed), n)  # fmt: skip
            points = [v[0] for v in draws]
            rows.append({"target": target, "quantity": quantity, "condition": condition,
                         **est.as_dict(), "seeds": len(draws), "seed_values": tuple(points),
                         "seed_min": min(points), "seed_max": max(points)})  # fmt: skip
    return pd.DataFrame(rows)


def distance_changes(samples: Mapping, n: int, *, n_boot: int, seed: int = 0) -> pd.DataFrame:
    """The distance between non-target languages, per target and control: random − pre
    (what random units do at all) and random − experts (what the experts do beyond
    them), and experts − pre, each with its interval over draws and sentences."""
    rows = []
    for target in dict.fromkeys(t for t, _, _, _ in samples):
        (pre,) = _draws(samples, target, "pre", "all_languages")
        (experts,) = _draws(samples, target, "experts", "all_languages")
        pairs = {"experts − pre": ([experts], pre)}
        for control in CONTROLS:
            draws = _draws(samples, target, control, "all_languages")
            pairs[f"{control} − pre"] = (draws, pre)
            pairs[f"{control} − experts"] = (draws, experts)
        for name, (after, before) in pairs.items():
            est = over_draws(target, [a - before for a in after], n, n_boot=n_boot, seed=seed)
            rows.append({"target": target, "comparison": name, **est.estimate.as_dict()})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ retrieval
def target_query_hits(space: Space, target: str, *, score: str) -> pd.DataFrame:
    """Per query (rows) and candidate language (columns, sorted by code), whether the
    target-language query retrieves its translation among that language's sentences."""
    if target not in space:
        raise ValueError(f"target {target!r} is not a language of the space {list(space)}")
    candidates = sorted(lang for lang in space if lang != target)
    return pd.DataFrame({c: top1_hits(space[target], space[c], score=score) for c in candidates})


def retrieval_hits(spaces: Mapping[Key, Space], *, score: str) -> dict[Key, pd.DataFrame]:
    """(target, condition, seed) → :func:`target_query_hits` in that space."""
    return {key: target_query_hits(space, key[0], score=score) for key, space in spaces.items()}


def seed_arrays(hits: Mapping[Key, object], target: str, condition: str) -> list[np.ndarray]:
    """The hits of one target and condition, one (queries, pairs) array per seed."""
    arrays = [np.asarray(v) for (t, c, _), v in hits.items() if (t, c) == (target, condition)]
    return [a.reshape(len(a), -1) for a in arrays]


def accuracy_by_candidate(hits: Mapping[Key, pd.DataFrame]) -> pd.DataFrame:
    """Per target, condition and candidate language: top-1 accuracy (mean over seeds)
    and its spread over seeds (``seed_min``, ``seed_max``)."""
    rows = []
    for target, condition in dict.fromkeys((t, c) for t, c, _ in hits):
        frames = [v for (t, c, _), v in hits.items() if (t, c) == (target, condition)]
        per_seed = pd.concat([f.mean() for f in frames], axis=1)
        for candidate, values in per_seed.iterrows():
            rows.append({"target": target, "condition": condition, "candidate": candidate,
                         "value": values.mean(), "seed_min": values.min(),
                         "seed_max": values.max(), "seeds": len(frames)})  # fmt: skip
    return pd.DataFrame(rows)


def change_over_draws(
    unit: str,
    before: Sequence[np.ndarray],
    after: Sequence[np.ndarray],
    *,
    n_boot: int,
    seed: int = 0,
    reference: float = 0.0,
    margin: float | None = None,
    ok: bool = True,
    why_not: str = "",
) -> Evidence:
    """Change of top-1 accuracy from ``before`` to ``after`` (each a list of one
    (queries, pairs) array per draw, or a single array shared by all draws), mean over
    draws and pairs, with an interval over draws and queries together."""
    if len(before) == 1 and len(after) > 1:
        before = list(before) * len(after)
    if len(after) == 1 and len(before) > 1:
        after = list(after) * len(before)
    per_draw = [
        mean_samples((a.astype(np.float64) - b).mean(axis=1), n_boot=n_boot, seed=seed)
        for b, a in zip(before, after, strict=True)
    ]
    n = len(before[0])
    return over_draws(unit, per_draw, n, n_boot=n_boot, reference=reference, margin=margin,
                      ok=ok, why_not=why_not, seed=seed)  # fmt: skip


#: the comparisons the control tables show: (after, before)
COMPARISONS = (
    ("experts", "pre"),
    ("experts' values", "pre"),
    ("own means", "pre"),
    ("experts' values", "experts"),
    ("own means", "experts"),
)


def change_table(
    hits: Mapping[Key, object], chance: float, *, n_boot: int, seed: int = 0
) -> pd.DataFrame:
    """Per target and comparison of :data:`COMPARISONS`: the change of top-1 accuracy
    (mean over candidates and draws) with its 95 % interval over draws and queries, and
    whether it is testable (one of the two accuracies above ``chance``)."""
    rows = []
    for target in dict.fromkeys(t for t, _, _ in hits):
        for after, before in COMPARISONS:
            b, a = seed_arrays(hits, target, before), seed_arrays(hits, target, after)
            ok, why = testable(np.hstack(b), np.hstack(a), chance, "either", n_boot=n_boot)
            ev = change_over_draws(target, b, a, n_boot=n_boot, seed=seed, ok=ok, why_not=why)
            rows.append({"target": target, "comparison": f"{after} − {before}",
                         **ev.estimate.as_dict(), "testable": ev.testable,
                         "why_not": ev.why_not})  # fmt: skip
    return pd.DataFrame(rows)


def distance_cells(distances: pd.DataFrame) -> pd.DataFrame:
    """:func:`distance_table` as the chapter shows it: per (target, quantity), each
    condition's distance with its interval, conditions in :data:`CONDITIONS` order."""
    text = [fmt_ci(r, "dist") for r in distances.itertuples()]
    wide = distances.assign(text=text).pivot_table(
        index=["target", "quantity"], columns="condition", values="text", aggfunc="first",
        sort=False,
    )  # fmt: skip
    return wide[list(CONDITIONS)]


def change_cells(changes: pd.DataFrame, *, kind: str = "pp") -> pd.DataFrame:
    """:func:`change_table` or :func:`distance_changes` (with a ``score`` column) as the
    chapter shows it: per (score, target), each comparison's signed change with its
    interval, "n.s." where the accuracies are at chance."""
    text = [
        fmt_ci(r, kind, sign=True) + ("" if r.testable else " n.s.") for r in changes.itertuples()
    ]
    return changes.assign(text=text).pivot_table(
        index=["score", "target"], columns="comparison", values="text", aggfunc="first", sort=False
    )


# ----------------------------------------------------------------- paraphrase
def paraphrase_hits(
    pipe: Pipeline, n: int, *, k: int, score: str
) -> tuple[dict[Key, dict[str, np.ndarray]], dict[str, str]]:
    """Paraphrase retrieval (paper §6, Table 6 under the control) on the first ``n``
    pairs of each target's pool: (target, condition, seed) → ``pre``/``post``/``mixed``
    hits (:meth:`steerspace.pipeline.Pipeline.paraphrase_hits`) for the ``k`` experts
    and every control seed; and target → why it has no pool, for targets without one."""
    cfg = pipe.cfg
    seeds = control_seeds(cfg.random_seeds, cfg.own_mean_seeds)
    out, skipped = {}, {}
    for target, condition, seed in condition_keys(cfg.targets, seeds):
        if condition == "pre" or target in skipped:
            continue
        iv = (
            pipe.intervention(target, k=k)
            if condition == "experts"
            else pipe.intervention(target, k=k, random_seed=seed, values=CONTROLS[condition])
        )
        try:
            out[target, condition, seed] = pipe.paraphrase_hits(target, iv, score=score, n=n)
        except ValueError as err:  # no paraphrase pool for this language
            skipped[target] = str(err)
    return out, skipped


def paraphrase_post(hits: Mapping[Key, Mapping[str, np.ndarray]]) -> dict[Key, np.ndarray]:
    """The hits in each condition's own space: ``pre`` (the original model's, with seed
    0), and ``post`` under the experts and each control seed."""
    out = {}
    for (target, condition, seed), parts in hits.items():
        if condition == "experts":
            out[target, "pre", 0] = parts["pre"]
        out[target, condition, seed] = parts["post"]
    return out


def paraphrase_table(hits: Mapping[Key, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """The paper's Table 6 layout under each condition: per target and condition,
    ``pre``, ``post`` and ``mixed`` top-1 accuracy (means over seeds) and the spread of
    ``post`` over seeds, plus ``pairs`` (the pool size)."""
    rows = []
    for target, condition in dict.fromkeys((t, c) for t, c, _ in hits):
        parts = [v for (t, c, _), v in hits.items() if (t, c) == (target, condition)]
        post = [float(np.mean(p["post"])) for p in parts]
        rows.append({"target": target, "condition": condition,
                     "pre": float(np.mean(parts[0]["pre"])), "post": float(np.mean(post)),
                     "mixed": float(np.mean([np.mean(p["mixed"]) for p in parts])),
                     "post_seed_min": min(post), "post_seed_max": max(post),
                     "seeds": len(parts), "pairs": len(parts[0]["pre"])})  # fmt: skip
    return pd.DataFrame(rows)


# --------------------------------------------------------------------- claims
PAPER_CONTROL = "experts' values"


def geometry_assessments(
    samples: Mapping, targets: Sequence[str], n: int, *, n_boot: int, seed: int = 0
) -> list[Assessment]:
    """Claims ``control.geometry`` (the paper's control) and ``control.geometry_own``
    (ours): per target, the distance between non-target languages under random units
    minus under the experts, over draws and sentences; the summary the mean over
    targets."""
    out = []
    for claim_id, control in (
        ("control.geometry", PAPER_CONTROL),
        ("control.geometry_own", "own means"),
    ):
        if not any(c == control for _, c, _, _ in samples):
            continue  # no draws of this control in this run
        units, per_target = [], []
        for target in targets:
            (experts,) = _draws(samples, target, "experts", "all_languages")
            draws = [d - experts for d in _draws(samples, target, control, "all_languages")]
            units.append(over_draws(target, draws, n, n_boot=n_boot, seed=seed))
            per_target.append(np.vstack(draws))
        mean = np.mean(per_target, axis=0)  # (draws, 1 + n_boot): targets averaged per draw
        summary = estimate_from_samples(two_level_samples(mean, n_boot=n_boot, seed=seed), n)
        out.append(assess(claim_id, units, summary=summary))
    return out


def _pooled(
    arrays: Sequence[list[np.ndarray]], n: int, *, n_boot: int, seed: int
) -> Estimate | None:
    """The mean over targets of per-draw per-query changes (``arrays``: per target, one
    (1 + n_boot,) array per draw), with the interval over draws and queries."""
    if not arrays or len({len(a) for a in arrays}) != 1:
        return None
    mean = np.mean([np.vstack(a) for a in arrays], axis=0)
    return estimate_from_samples(two_level_samples(mean, n_boot=n_boot, seed=seed), n)


def retrieval_assessments(
    hits: Mapping[Key, pd.DataFrame], chance: float, *, variant: str, n_boot: int, seed: int = 0
) -> list[Assessment]:
    """Claims ``control.retrieval`` (random − pre, no gain as large as a quarter of pre's
    accuracy above chance) and ``control.smaller_gains`` (random − experts below 0)
    for one score ``variant``, target as query, draws and queries resampled together."""
    kw = {"n_boot": n_boot, "seed": seed}
    improve, smaller, per_improve, per_smaller = [], [], [], []
    for target in dict.fromkeys(t for t, _, _ in hits):
        pre = seed_arrays(hits, target, "pre")
        experts = seed_arrays(hits, target, "experts")
        random = seed_arrays(hits, target, PAPER_CONTROL)
        ok, why = testable(pre[0], np.hstack(random), chance, "either", n_boot=n_boot)
        margin = margin_above_chance(pre[0], chance)
        improve.append(change_over_draws(target, pre, random, reference=margin, ok=ok,
                                         why_not=why, **kw))  # fmt: skip
        ok, why = testable(pre[0], experts[0], chance, "either", n_boot=n_boot)
        smaller.append(change_over_draws(target, experts, random, ok=ok, why_not=why, **kw))
        per_improve.append([mean_samples((r.astype(float) - pre[0]).mean(1), **kw) for r in random])
        per_smaller.append(
            [mean_samples((r.astype(float) - experts[0]).mean(1), **kw) for r in random]
        )
    n = len(next(iter(hits.values())))
    return [
        assess("control.retrieval", improve, variant=variant,
               summary=_pooled(per_improve, n, **kw)),
        assess("control.smaller_gains", smaller, variant=variant,
               summary=_pooled(per_smaller, n, **kw)),
    ]  # fmt: skip


def paraphrase_assessments(
    hits: Mapping[Key, Mapping[str, np.ndarray]],
    skipped: Mapping[str, str],
    *,
    variant: str,
    n_boot: int,
    seed: int = 0,
) -> list[Assessment]:
    """Claims ``control.paraphrase`` (random post − experts post below 0; the experts'
    accuracy must be above chance) and ``control.paraphrase_small`` (random post − pre
    inside ± a quarter of pre's accuracy above chance) for one score ``variant``. Each
    target's pool is a different set of sentences: its queries are resampled on their
    own (seed + its position), the draws of one target on the same queries."""
    post = paraphrase_post(hits)
    claims_ = {"control.paraphrase": ([], []), "control.paraphrase_small": ([], [])}
    n = 0
    for i, target in enumerate(dict.fromkeys(t for t, _, _ in post)):
        kw = {"n_boot": n_boot, "seed": seed + i}
        pre = seed_arrays(post, target, "pre")
        experts = seed_arrays(post, target, "experts")
        random = seed_arrays(post, target, PAPER_CONTROL)
        n, chance = len(pre[0]), 1.0 / len(pre[0])
        for claim_id, before, extra in (
            ("control.paraphrase", experts, {}),
            ("control.paraphrase_small", pre, {"margin": margin_above_chance(pre[0], chance)}),
        ):
            ok, why = testable(before[0], before[0], chance, "before", n_boot=n_boot)
            units, arrays = claims_[claim_id]
            units.append(
                change_over_draws(target, before, random, ok=ok, why_not=why, **extra, **kw)
            )
            arrays.append(
                [mean_samples((r.astype(float) - before[0]).mean(1), **kw) for r in random]
            )
    out = []
    for claim_id, (units, arrays) in claims_.items():
        if not units:
            why = "; ".join(f"{t}: {w}" for t, w in skipped.items()) or "no paraphrase pool"
            out.append(not_testable(claim_id, why, variant=variant))
            continue
        summary = _pooled(arrays, n, n_boot=n_boot, seed=seed)
        out.append(assess(claim_id, units, variant=variant, summary=summary))
    return out
