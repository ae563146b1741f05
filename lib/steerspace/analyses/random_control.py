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

from steerspace.claims import Assessment, Evidence, assess
from steerspace.claims.evidence import hits_change
from steerspace.metrics.geometry import TABLE1_QUANTITIES, table1_resampled
from steerspace.metrics.inference import Estimate, bootstrap_rows, estimate_from_samples
from steerspace.metrics.retrieval import top1_hits
from steerspace.text.format import fmt, fmt_ci, model_label

if TYPE_CHECKING:
    from steerspace.pipeline import Pipeline

#: control name (the claims' variant and the figures' condition) → ``values`` argument
#: of :meth:`steerspace.pipeline.Pipeline.intervention`
CONTROLS = {"experts' values": "experts", "own means": "own"}
#: the conditions every control table holds, in the order figures draw them
CONDITIONS = ("pre", "experts", *CONTROLS)
#: claim variant (steerspace.claims.SCORES) → retrieval score of steerspace.metrics.retrieval
SCORE_NAMES = {"inner product": "dot", "cosine": "cosine"}

Space = Mapping[str, np.ndarray]
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


def control_spaces(pipe: Pipeline, n: int) -> dict[Key, dict[str, np.ndarray]]:
    """(target, condition, seed) → the space of the first ``n`` evaluation sentences of
    every language (pre and experts: the cached full spaces, cut; the controls: new
    forward passes of the final-norm embedding only, cached)."""
    cfg = pipe.cfg
    seeds = control_seeds(cfg.random_seeds, cfg.own_mean_seeds)
    pre = head(pipe.space(), n)
    experts = {t: head(space, n) for t, space in pipe.post_spaces().items()}
    corpus = pipe.eval_corpus.select(stop=n)
    out: dict[Key, dict[str, np.ndarray]] = {}
    for key in condition_keys(cfg.targets, seeds):
        target, condition, seed = key
        if condition == "pre":
            out[key] = pre
        elif condition == "experts":
            out[key] = experts[target]
        else:
            iv = pipe.intervention(target, random_seed=seed, values=CONTROLS[condition])
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


def _seeds_of(samples: Mapping, target: str, condition: str, quantity: str) -> list[np.ndarray]:
    return [v for (t, c, _, q), v in samples.items() if (t, c, q) == (target, condition, quantity)]


def distance_table(samples: Mapping, n: int) -> pd.DataFrame:
    """One row per (target, quantity, condition): the value with its 95 % interval over
    sentences (``value, low, high, n``; for a control, of the mean over seeds) and the
    seed spread (``seed_values``, ``seed_min``, ``seed_max``: the values of the single
    seeds)."""
    keys = dict.fromkeys((t, q) for t, _, _, q in samples)
    rows = []
    for target, quantity in keys:
        for condition in CONDITIONS:
            per_seed = _seeds_of(samples, target, condition, quantity)
            if not per_seed:
                continue
            est = estimate_from_samples(np.mean(per_seed, axis=0), n)
            points = [v[0] for v in per_seed]
            rows.append(
                {
                    "target": target,
                    "quantity": quantity,
                    "condition": condition,
                    **est.as_dict(),
                    "seeds": len(per_seed),
                    "seed_values": tuple(points),
                    "seed_min": min(points),
                    "seed_max": max(points),
                }
            )
    return pd.DataFrame(rows)


def distance_change(
    samples: Mapping, target: str, control: str, *, quantity: str = "all_languages"
) -> np.ndarray:
    """Resampled change of ``quantity`` under random units minus under the experts
    (mean over the control's seeds): positive = the random units shrink it less."""
    check_control(control)
    per_seed = _seeds_of(samples, target, control, quantity)
    if not per_seed:
        raise ValueError(f"no samples of control {control!r} for target {target!r}")
    (experts,) = _seeds_of(samples, target, "experts", quantity)
    return np.mean(per_seed, axis=0) - experts


def geometry_evidence(
    samples: Mapping, targets: Sequence[str], control: str, n: int
) -> tuple[list[Evidence], Estimate]:
    """Evidence for claim ``control.geometry``: per target, the non-target distance
    under random units minus under the experts; and the mean over targets."""
    changes = {t: distance_change(samples, t, control) for t in targets}
    units = [Evidence(t, estimate_from_samples(c, n)) for t, c in changes.items()]
    return units, estimate_from_samples(np.mean(list(changes.values()), axis=0), n)


# ------------------------------------------------------------------ retrieval
def target_query_hits(space: Space, target: str, *, score: str) -> pd.DataFrame:
    """Per query (rows) and candidate language (columns, sorted by code), whether the
    target-language query retrieves its translation among that language's sentences."""
    if target not in space:
        raise ValueError(f"target {target!r} is not a language of the space {list(space)}")
    candidates = sorted(lang for lang in space if lang != target)
    return pd.DataFrame({c: top1_hits(space[target], space[c], score=score) for c in candidates})


def stacked(before: np.ndarray, after: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``before`` repeated once per seed beside the seeds' ``after`` hits, as two
    (queries, seeds × pairs) arrays for a paired bootstrap of the mean over seeds."""
    before = np.asarray(before, dtype=bool).reshape(len(before), -1)
    after = [np.asarray(a, dtype=bool).reshape(len(a), -1) for a in after]
    if not after or any(a.shape != before.shape for a in after):
        raise ValueError(
            f"need one or more 'after' arrays shaped like 'before' {before.shape}, "
            f"got {[a.shape for a in after]}"
        )
    return np.hstack([before] * len(after)), np.hstack(after)


def seeds_change(
    unit: str,
    before: np.ndarray,
    after: Sequence[np.ndarray],
    chance: float,
    *,
    require: str = "either",
    seed: int = 0,
) -> Evidence:
    """Change of top-1 accuracy from ``before`` to the mean over seeds of ``after`` on
    the same queries (paired bootstrap over queries), as evidence for a claim."""
    b, a = stacked(before, after)
    return hits_change(unit, b, a, chance, require=require, seed=seed)


def pooled_change(
    pairs: Sequence[tuple[np.ndarray, Sequence[np.ndarray]]], *, seed: int = 0
) -> Estimate:
    """The mean over units of :func:`seeds_change`'s changes, with one interval: the
    units' hits have the same query rows (the aligned sentences, or each language's
    own random draw of paraphrase pairs), which are resampled jointly."""
    per_query = []
    for before, after in pairs:
        b, a = stacked(before, after)
        per_query.append((a.astype(np.float64) - b).mean(axis=1))
    sizes = sorted({len(x) for x in per_query})
    if len(sizes) != 1:
        raise ValueError(f"every unit needs the same number of queries, got {sizes}")
    mean = np.mean(per_query, axis=0)
    return bootstrap_rows(lambda counts: counts @ mean / mean.size, mean.size,
                          point=float(mean.mean()), seed=seed)  # fmt: skip


def retrieval_hits(spaces: Mapping[Key, Space], *, score: str) -> dict[Key, pd.DataFrame]:
    """(target, condition, seed) → :func:`target_query_hits` in that space."""
    return {key: target_query_hits(space, key[0], score=score) for key, space in spaces.items()}


def seed_arrays(hits: Mapping[Key, object], target: str, condition: str) -> list[np.ndarray]:
    """The hits of one target and condition, one array per seed."""
    return [np.asarray(v) for (t, c, _), v in hits.items() if (t, c) == (target, condition)]


def accuracy_by_candidate(hits: Mapping[Key, pd.DataFrame]) -> pd.DataFrame:
    """Per target, condition and candidate language: top-1 accuracy (mean over seeds)
    and its spread over seeds (``seed_min``, ``seed_max``)."""
    rows = []
    for target, condition in dict.fromkeys((t, c) for t, c, _ in hits):
        frames = [v for (t, c, _), v in hits.items() if (t, c) == (target, condition)]
        per_seed = pd.concat([f.mean() for f in frames], axis=1)
        for candidate, values in per_seed.iterrows():
            rows.append(
                {
                    "target": target,
                    "condition": condition,
                    "candidate": candidate,
                    "value": values.mean(),
                    "seed_min": values.min(),
                    "seed_max": values.max(),
                    "seeds": len(frames),
                }
            )
    return pd.DataFrame(rows)


#: the comparisons the control tables show: (after, before)
COMPARISONS = (
    ("experts", "pre"),
    ("experts' values", "pre"),
    ("own means", "pre"),
    ("experts' values", "experts"),
    ("own means", "experts"),
)


def change_table(hits: Mapping[Key, object], chance: float, *, seed: int = 0) -> pd.DataFrame:
    """Per target and comparison of :data:`COMPARISONS`: the change of top-1 accuracy
    (mean over candidates and seeds) with its paired 95 % interval over queries, and
    whether it is testable (an accuracy above ``chance``)."""
    rows = []
    for target in dict.fromkeys(t for t, _, _ in hits):
        for after, before in COMPARISONS:
            (base,) = seed_arrays(hits, target, before)
            ev = seeds_change(target, base, seed_arrays(hits, target, after), chance, seed=seed)
            rows.append(
                {
                    "target": target,
                    "comparison": f"{after} − {before}",
                    **ev.estimate.as_dict(),
                    "testable": ev.testable,
                    "why_not": ev.why_not,
                }
            )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- paraphrase
def paraphrase_hits(
    pipe: Pipeline, n: int, *, score: str
) -> tuple[dict[Key, dict[str, np.ndarray]], dict[str, str]]:
    """Paraphrase retrieval (paper §6, Table 6 under the control) on the first ``n``
    pairs of each target's pool: (target, condition, seed) → ``pre``/``post``/``mixed``
    hits (:meth:`steerspace.pipeline.Pipeline.paraphrase_hits`) for the experts and
    every control seed; and target → why it has no pool, for targets without one."""
    cfg = pipe.cfg
    seeds = control_seeds(cfg.random_seeds, cfg.own_mean_seeds)
    out, skipped = {}, {}
    for target, condition, seed in condition_keys(cfg.targets, seeds):
        if condition == "pre" or target in skipped:
            continue
        iv = (
            pipe.intervention(target)
            if condition == "experts"
            else pipe.intervention(target, random_seed=seed, values=CONTROLS[condition])
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
        rows.append(
            {
                "target": target,
                "condition": condition,
                "pre": float(np.mean(parts[0]["pre"])),
                "post": float(np.mean(post)),
                "mixed": float(np.mean([np.mean(p["mixed"]) for p in parts])),
                "post_seed_min": min(post),
                "post_seed_max": max(post),
                "seeds": len(parts),
                "pairs": len(parts[0]["pre"]),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------- claims
PAPER_CONTROL = "experts' values"


def geometry_assessments(samples: Mapping, targets: Sequence[str], n: int) -> list[Assessment]:
    """Claim ``control.geometry`` for each control (its variants)."""
    out = []
    for name in CONTROLS:
        units, summary = geometry_evidence(samples, targets, name, n)
        out.append(assess("control.geometry", units, variant=name, summary=summary))
    return out


def hits_assessment(
    claim_id: str,
    variant: str,
    pairs: Mapping[str, tuple[np.ndarray, Sequence[np.ndarray]]],
    *,
    require: str,
    seed: int = 0,
) -> Assessment:
    """A claim decided per target on (before, after-per-seed) hits: the change to the
    mean over seeds, chance = 1 / number of candidates (one per query)."""
    units = [
        seeds_change(t, before, after, 1.0 / len(before), require=require, seed=seed)
        for t, (before, after) in pairs.items()
    ]
    summary = pooled_change(list(pairs.values()), seed=seed) if pairs else None
    return assess(claim_id, units, variant=variant, summary=summary)


def retrieval_pairs(
    hits: Mapping[Key, pd.DataFrame], after: str = PAPER_CONTROL, before: str = "pre"
) -> dict[str, tuple[np.ndarray, list[np.ndarray]]]:
    """Per target: the ``before`` condition's hits and the ``after`` condition's, one
    array per seed (for :func:`hits_assessment` and :func:`pooled_change`)."""
    targets = dict.fromkeys(t for t, _, _ in hits)
    return {t: (seed_arrays(hits, t, before)[0], seed_arrays(hits, t, after)) for t in targets}


def evidence_text(assessments: Sequence[Assessment], kind: str) -> str:
    """Each assessment's units with their intervals and its verdict, for the prose."""
    return "; ".join(
        (f"{a.variant}: " if a.variant else "")
        + ", ".join(
            f"**{e.unit}** {fmt_ci(e.estimate, kind, sign=True)}"
            + ("" if e.testable else " (not testable: at chance)")
            for e in a.evidence
        )
        + f" (verdict: {a.verdict})"
        for a in assessments
    )


def changes_text(changes: pd.DataFrame, comparison: str, kind: str = "pp") -> str:
    """One comparison of :func:`change_table` (with a ``score`` column) per score and
    target, with intervals; "n.s." where the accuracies are at chance."""
    part = changes[changes["comparison"] == comparison]
    return "; ".join(
        f"{score}: "
        + ", ".join(
            f"**{r.target}** {fmt_ci(r, kind, sign=True)}" + ("" if r.testable else " (n.s.)")
            for r in rows.itertuples()
        )
        for score, rows in part.groupby("score", sort=False)
    )


# --------------------------------------------------------------------------- the chapter
def pass_statements(
    n: int, n_targets: int, seeds: Mapping[str, Sequence[int]], n_langs: int, seconds: float
) -> dict[str, str]:
    """The sentences per language (``n``) and the forward passes the controls cost: one
    per target, draw (``seeds``: control → its seeds), language and sentence, and how
    long they took (glue keys without the chapter's ``control_`` prefix)."""
    draws = sum(len(s) for s in seeds.values())
    passes = n_targets * draws * n_langs * n
    return {
        "n": fmt(n, "int"),
        "passes": f"{fmt(passes, 'int')} sentences ({n_targets} targets × {draws} "
        f"draws × {n_langs} languages × {fmt(n, 'int')} sentences), {fmt(seconds, 's')} on this "
        "run (less when they are cached)",
    }


def distance_cells(distances: pd.DataFrame) -> pd.DataFrame:
    """:func:`distance_table` as the chapter shows it: per (target, quantity), each
    condition's distance with its interval, conditions in :data:`CONDITIONS` order."""
    text = [fmt_ci(r, "dist") for r in distances.itertuples()]
    wide = distances.assign(text=text).pivot_table(
        index=["target", "quantity"],
        columns="condition",
        values="text",
        aggfunc="first",
        sort=False,
    )
    return wide[list(CONDITIONS)]


def change_cells(changes: pd.DataFrame) -> pd.DataFrame:
    """:func:`change_table` (with a ``score`` column) as the chapter shows it: per (score,
    target), each comparison's signed change with its interval, "n.s." where the
    accuracies are at chance."""
    text = [
        fmt_ci(r, "pp", sign=True) + ("" if r.testable else " n.s.") for r in changes.itertuples()
    ]
    return changes.assign(text=text).pivot_table(
        index=["score", "target"], columns="comparison", values="text", aggfunc="first", sort=False
    )


def pooled_changes(
    hits: Mapping[str, Mapping[Key, pd.DataFrame]], *, seed: int = 0
) -> dict[tuple[str, str], Estimate]:
    """(score, condition) → :func:`pooled_change` over the targets of the change from the
    original model to the experts and to the paper's control (``hits``: score →
    :func:`retrieval_hits`)."""
    return {
        (score, after): pooled_change(list(retrieval_pairs(h, after).values()), seed=seed)
        for score, h in hits.items()
        for after in ("experts", PAPER_CONTROL)
    }


def deviation_statements(
    seeds: Mapping[str, Sequence[int]], model: str, dtype: str, corpus: str, k: int
) -> dict[str, str]:
    """The chapter's deviations from the paper: the draws of each control (``seeds``),
    and the model (as in the config, named by :func:`steerspace.text.format.model_label`),
    data and k."""
    return {
        "draws": f"{len(seeds[PAPER_CONTROL])} for the paper's control (seeds "
        f"{list(seeds[PAPER_CONTROL])}) and {len(seeds['own means'])} for the own-means "
        f"control (seeds {list(seeds['own means'])})",
        "deviation_data": f"{model_label(model)} in {dtype} on {corpus} sentences and "
        f"Bible paraphrases, k = {k}, instead of the paper's three 7–13B models on "
        "Flores-200 and PAWS-X",
    }


def result_statement(
    k: int,
    n_draws: int,
    geometry: Estimate,
    pooled: Mapping[tuple[str, str], Estimate],
    chance: float,
) -> str:
    """The chapter's result: the paper's control (``n_draws`` draws of ``k`` units)
    against the experts, in distance (``geometry``: the summary of ``control.geometry``)
    and in retrieval by each score (``pooled``: :func:`pooled_changes`)."""
    scores = dict.fromkeys(score for score, _ in pooled)
    retrieval = " and ".join(
        f"{fmt_ci(pooled[s, PAPER_CONTROL], 'pp', sign=True)} under random units against "
        f"{fmt_ci(pooled[s, 'experts'], 'pp', sign=True)} under the experts ({s})"
        for s in scores
    )
    return (
        f"With {k} random units set to the experts' values (the paper's control, "
        f"{n_draws} draws), the distance between non-target languages ends "
        f"{fmt_ci(geometry, 'dist', sign=True)} away from where the experts put it "
        "(mean over targets, 95 % interval over sentences). Retrieval with the target as "
        f"query changes by {retrieval}, chance being {fmt(chance, 'acc')}."
    )
