"""The paper's claims as data, and the rules that turn our measurements into verdicts.

Each :class:`Claim` holds the paper's own words (quoted from the paper's text with
the line they are on), the numbers the paper prints, what we measure, how we test it,
and a :class:`Rule`. A chapter measures the claim on its *units of replication*
(targets, languages, directions), one :class:`Evidence` each: an estimate with its
confidence interval (:mod:`steerspace.metrics.inference`) and the reference value the claim
compares it with. :func:`assess` applies the rule and returns an :class:`Assessment`,
which the scorecard (:mod:`steerspace.claims.scorecard`) stores and shows.

How a rule decides, unit by unit (``low``/``high`` = the interval, ``ref`` = the
reference):

======== ========================= ========================== ==============
kind     the claim says            supports it                contradicts it
======== ========================= ========================== ==============
above    the effect is above ref   ``low > ref``              ``high < ref``
below    the effect is below ref   ``high < ref``             ``low > ref``
contains there is no effect        ``low <= ref <= high``     otherwise
not_above no improvement over ref  ``low <= ref``             ``low > ref``
======== ========================= ========================== ==============

A unit whose prerequisite fails (e.g. an accuracy that is not significantly above
chance, :func:`steerspace.metrics.inference.above_chance`) is *untestable*; any other unit
that neither supports nor contradicts is *inconclusive*. Then, over the units:

- no testable unit → **not testable here** (with the units' reasons);
- no unit decides (all inconclusive) → **not testable here** (the intervals are too
  wide to decide);
- the supporting share reaches the claim's quantifier ("all", "almost all" = all but
  one, "most" = more than half) → **reproduced**, unless fewer than half of the units
  were testable, which caps the verdict at partly reproduced;
- no support, or more contradicting than supporting units → **not reproduced**;
- otherwise → **partly reproduced**.

A claim that needs several models, or data the run does not have, is **not testable
here** by construction (:func:`not_testable`), with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from steerspace.metrics.inference import Estimate

VERDICTS = ("reproduced", "partly reproduced", "not reproduced", "not testable here")
OUTCOMES = ("support", "against", "inconclusive", "untestable")
KINDS = ("above", "below", "contains", "not_above")
QUANTIFIERS = ("all", "almost all", "most")
PAPER_TEXT = "the paper's text (Anonymous ACL submission, PDF-extracted), line"


@dataclass(frozen=True)
class Evidence:
    """One unit of replication of a claim (a target, a language, a direction).

    ``estimate`` is the measured effect with its interval; ``reference`` the value the
    claim compares it with (0 for "increases", −margin for "does not get worse", 2 for
    "doubles"); ``testable`` is false when a prerequisite fails, and ``why_not`` says
    which.
    """

    unit: str
    estimate: Estimate
    reference: float = 0.0
    testable: bool = True
    why_not: str = ""


@dataclass(frozen=True)
class Rule:
    """How evidence decides a claim: the direction of the effect (``kind``, see the
    module docstring) and how many units must support it (``quantifier``)."""

    kind: str
    quantifier: str = "all"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"rule kind must be one of {list(KINDS)}, got {self.kind!r}")
        if self.quantifier not in QUANTIFIERS:
            raise ValueError(
                f"rule quantifier must be one of {list(QUANTIFIERS)}, got {self.quantifier!r}"
            )

    def outcome(self, evidence: Evidence) -> str:
        """``support``, ``against``, ``inconclusive`` or ``untestable`` for one unit."""
        est, ref = evidence.estimate, evidence.reference
        if not evidence.testable or not (math.isfinite(est.low) and math.isfinite(est.high)):
            return "untestable"
        if self.kind == "above":
            return "support" if est.low > ref else "against" if est.high < ref else "inconclusive"
        if self.kind == "below":
            return "support" if est.high < ref else "against" if est.low > ref else "inconclusive"
        if self.kind == "contains":
            return "support" if est.low <= ref <= est.high else "against"
        return "support" if est.low <= ref else "against"  # not_above

    def required(self, n: int) -> int:
        """How many of ``n`` testable units must support the claim."""
        if self.quantifier == "all":
            return n
        if self.quantifier == "almost all":
            return max(1, n - 1)
        return n // 2 + 1  # most: more than half

    def verdict(self, evidence: Sequence[Evidence]) -> tuple[str, str]:
        """The verdict over all units, and a one-line reason that counts them."""
        if not evidence:
            raise ValueError("a claim needs at least one unit of evidence")
        outcomes = [self.outcome(ev) for ev in evidence]
        testable = [o for o in outcomes if o != "untestable"]
        support, against = testable.count("support"), testable.count("against")
        inconclusive = testable.count("inconclusive")
        if not testable:
            reasons = sorted({ev.why_not or "no interval" for ev in evidence})
            return "not testable here", "; ".join(reasons)
        counts = f"{support} of {len(testable)} testable units support it, {against} contradict it"
        if inconclusive:
            counts += f", {inconclusive} undecided"
        if len(testable) < len(evidence):
            counts += f" ({len(evidence) - len(testable)} of {len(evidence)} not testable)"
        if support == 0 and against == 0:
            return "not testable here", f"the intervals are too wide to decide: {counts}"
        if support >= self.required(len(testable)):
            if 2 * len(testable) < len(evidence):
                return "partly reproduced", f"{counts}; too few units testable for more"
            return "reproduced", counts
        if support == 0 or against > support:
            return "not reproduced", counts
        return "partly reproduced", counts


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, what we measure for it and how it is decided.

    ``line`` is the line of :data:`PAPER_TEXT` the quote starts on (``None`` where the
    paper states no such claim and the row tests a reading of its method); ``rule`` is
    ``None`` for claims that cannot be tested with one model (``untestable`` says why).
    ``variants`` lists the similarity scores the claim is assessed with where retrieval
    is involved (the paper's inner product, and cosine); ``kind`` is how its numbers are
    written (a kind of :func:`steerspace.text.format.fmt`).
    """

    id: str
    section: str
    title: str
    quote: str
    line: int | None
    paper: str
    measure: str
    test: str
    rule: Rule | None
    chapter: str
    anchor: str
    kind: str = "plain"
    needs_above_chance: bool = False
    untestable: str = ""
    variants: tuple[str, ...] = ("",)


@dataclass(frozen=True)
class Assessment:
    """A claim measured and decided on one run (and one variant)."""

    claim: Claim
    variant: str
    evidence: tuple[Evidence, ...]
    summary: Estimate | None
    verdict: str
    reason: str
    details: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``claim id`` or ``claim id [variant]``: unique per scorecard row."""
        return f"{self.claim.id} [{self.variant}]" if self.variant else self.claim.id


SCORES = ("inner product", "cosine")

CLAIMS: dict[str, Claim] = {
    claim.id: claim
    for claim in (
        Claim(
            id="experts.exist",
            section="§3.2",
            title="Language experts exist",
            quote=(
                "Expert neurons are those that can classify sentences as being from the "
                "positive set (containing the target language) vs. the negative set (that does "
                "not contain the target language), as measured by the area under the ROC curve."
            ),
            line=277,
            paper="no AUROC values printed",
            measure="AUROC of the k-th best unit of each target (the weakest expert used)",
            test=(
                "its 95 % interval (Hanley–McNeil) lies above the AUROC that the best of all "
                "units reaches by chance (one-sided Mann–Whitney at level 0.05, normal "
                "approximation, Bonferroni over all units)"
            ),
            rule=Rule("above", "all"),
            chapter="finding_experts",
            anchor="experts-auroc",
            kind="auroc",
        ),
        Claim(
            id="experts.layers",
            section="§3.2",
            title="Experts sit in particular layers",
            quote="(not stated: the paper searches every layer and reports no layer profile)",
            line=None,
            paper="not reported",
            measure=(
                "total-variation distance between the layers of the top-k experts and the "
                "layers of all units (0 = spread like the units, 1 = all in layers with no units)"
            ),
            test=(
                "basic-bootstrap interval over the k experts (resampled with replacement) lies "
                "above the 95th percentile of the same distance for k units drawn at random "
                "(without replacement)"
            ),
            rule=Rule("above", "all"),
            chapter="finding_experts",
            anchor="experts-layers",
            kind="plain",
        ),
        Claim(
            id="k.steering",
            section="§3.3",
            title="The intervention steers generation into the target language",
            quote=(
                "For almost all target languages, the probability of generating that language "
                "increases postintervention (Fig. 2, top), suggesting that the intervention is "
                "successful."
            ),
            line=281,
            paper="Fig. 2, top (values not printed); the one exception is English in Aya-8B",
            measure=(
                "share of free generations identified as the target language at the config's "
                "k minus the share at k = 0"
            ),
            test="bootstrap interval over generations lies above 0",
            rule=Rule("above", "almost all"),
            chapter="choice_of_k",
            anchor="k-steering",
            kind="pp",
        ),
        Claim(
            id="k.perplexity",
            section="§3.3",
            title="Perplexity rises with the number of experts",
            quote=(
                "we observe an increase in perplexity postintervention as the number of "
                "activated neurons increases, see Fig. 2 (bottom)."
            ),
            line=285,
            paper="Fig. 2, bottom (values not printed)",
            measure=(
                "log-perplexity (nats per token) of held-out target text at the largest k "
                "minus at k = 0"
            ),
            test="block-bootstrap interval over tokens (blocks of 64) lies above 0",
            rule=Rule("above", "all"),
            chapter="choice_of_k",
            anchor="k-perplexity",
            kind="nats",
        ),
        Claim(
            id="k.tradeoff",
            section="App. B",
            title="Steering is bought with perplexity",
            quote=(
                "We select the value for k that balances generating text in the target "
                "language with a low perplexity on the language-specific Wikipedia text"
            ),
            line=281,
            paper="k = 100 (Bloom-7B), 2000 (Aya-8B, PolyLM-13B)",
            measure=(
                "log-perplexity cost (vs k = 0) at the k that steers best, for targets whose "
                "steering there is significant"
            ),
            test=(
                "block-bootstrap interval over tokens lies above 0; a target is untestable "
                "when its steering at that k is not significant"
            ),
            rule=Rule("above", "all"),
            chapter="choice_of_k",
            anchor="k-tradeoff",
            kind="nats",
        ),
        Claim(
            id="space.new_space",
            section="§4",
            title="Languages move into a new space, not to the target's old place",
            quote=(
                "The intervention pulls the embeddings of all languages into a new space (see "
                "Fig. 3 for Spanish and Appendix C for other languages), rather than moving them "
                "closer to the embeddings of the target language in the unintervened space."
            ),
            line=325,
            paper="Fig. 3, Figs. 6–20 (UMAP; no numbers)",
            measure=(
                "mean over the other languages of d(post language, pre target) − d(pre "
                "language, pre target), mean pairwise cosine distance"
            ),
            test="bootstrap interval over aligned sentences lies above 0 (no move towards it)",
            rule=Rule("above", "all"),
            chapter="embedding_space",
            anchor="space-new",
            kind="dist",
        ),
        Claim(
            id="space.closer",
            section="§4",
            title="Languages are closer to each other",
            quote=(
                "The post-intervention embeddings for the different languages are closer to "
                "each other compared to the pre-intervention embeddings, as indicated by the "
                "reduced pairwise cosine distances between the languages."
            ),
            line=327,
            paper=(
                "Table 1, distance (all languages), pre → post: Aya-8B 0.72 → 0.19, "
                "Bloom-7B 0.72 → 0.17, PolyLM-13B 0.85 → 0.56"
            ),
            measure="post − pre mean pairwise cosine distance between the non-target languages",
            test="bootstrap interval over aligned sentences lies below 0",
            rule=Rule("below", "all"),
            chapter="embedding_space",
            anchor="space-table1",
            kind="dist",
        ),
        Claim(
            id="space.medoid",
            section="§4",
            title="Languages are pulled towards the medoid",
            quote=(
                "Specifically, the distances are reduced because the post-intervention "
                "embeddings are pulled closer to the medoid of the embedding space."
            ),
            line=327,
            paper=(
                "Table 1, distance to medoid, pre → post, non-target (target): Aya-8B 0.58 → "
                "0.12 (0.62 → 0.14), Bloom-7B 0.5 → 0.11 (0.60 → 0.04), PolyLM-13B 0.72 → 0.43 "
                "(0.72 → 0.43)"
            ),
            measure="post − pre cosine distance of the language means to the space's medoid",
            test="bootstrap interval over aligned sentences lies below 0",
            rule=Rule("below", "all"),
            chapter="embedding_space",
            anchor="space-table1",
            kind="dist",
        ),
        Claim(
            id="space.target",
            section="§4",
            title="All languages are closer to the target",
            quote="As a result of the shift, all languages are closer to the target post-intervention.",
            line=327,
            paper=(
                "Table 1, distance to target, pre → post: Aya-8B 0.77 → 0.2, Bloom-7B 0.78 → "
                "0.13, PolyLM-13B 0.86 → 0.54"
            ),
            measure="post − pre mean cosine distance of the other languages to the target",
            test="bootstrap interval over aligned sentences lies below 0",
            rule=Rule("below", "all"),
            chapter="embedding_space",
            anchor="space-table1",
            kind="dist",
        ),
        Claim(
            id="space.polylm_less",
            section="§4",
            title="PolyLM-13B's distances shrink less",
            quote=(
                "We notice that all distances under consideration are reduced less "
                "post-intervention for PolyLM-13B compared to the other models."
            ),
            line=329,
            paper="Table 1: PolyLM-13B 0.85 → 0.56 against 0.72 → 0.19 / 0.17",
            measure="—",
            test="—",
            rule=None,
            chapter="embedding_space",
            anchor="space-table1",
            kind="dist",
            untestable="compares three models; this run has one",
        ),
        Claim(
            id="retrieval.target_query",
            section="§5",
            title="Retrieval improves with the target as query",
            quote=(
                "We find that top-1 retrieval accuracy improves post-intervention when using the "
                "target as the query language (see Fig. 4 for the Spanish intervention and "
                "Appendix E for the remaining four languages). This finding is consistent "
                "across most target languages and models."
            ),
            line=396,
            paper=(
                "Spanish, gain in points: Aya-8B median 32, max 74; Bloom-7B median 14, up to "
                "89; PolyLM-13B median 0.5, max 12"
            ),
            measure="post − pre top-1 accuracy, mean over candidate languages",
            test="paired bootstrap interval over queries lies above 0",
            rule=Rule("above", "most"),
            chapter="crosslingual_retrieval",
            anchor="retrieval-target-query",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="retrieval.two_x",
            section="§5 (claimed in §1)",
            title="Up to 2× top-1 accuracy",
            quote=(
                "This translates into a performance gain on cross-lingual retrieval with up to "
                "2x improvement in top-1 accuracy (Section 5)"
            ),
            line=89,
            paper="up to 2× (abstract, §1, §8)",
            measure=(
                "post / pre top-1 accuracy of the best (target, candidate) pair among pairs "
                "whose pre accuracy is above chance"
            ),
            test="bootstrap interval over queries lies above 2 (selected as the best pair)",
            rule=Rule("above", "all"),
            chapter="crosslingual_retrieval",
            anchor="retrieval-target-query",
            kind="ratio",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="retrieval.seen_larger",
            section="§5",
            title="Languages seen in pre-training gain more",
            quote=(
                "Candidate languages present in the pre-training data generally demonstrate "
                "larger gains post-intervention."
            ),
            line=396,
            paper="Figs. 4, 21–23 (red = unseen)",
            measure="mean gain of seen minus unseen candidate languages",
            test="bootstrap interval over queries lies above 0",
            rule=Rule("above", "most"),
            chapter="crosslingual_retrieval",
            anchor="retrieval-target-query",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="table2.predictive",
            section="§5, Table 2",
            title="Distance predicts retrieval accuracy",
            quote=(
                "the distance between query/target and match language is predictive of top-1 "
                "cross-lingual retrieval accuracy in both pre- and post-intervention spaces."
            ),
            line=471,
            paper=(
                "Table 2: r(acc_post, d_post) from −0.01 to −0.98, r(acc_pre, d_pre) from "
                "−0.50 to −0.96"
            ),
            measure=(
                "Pearson r between top-1 accuracy and query–candidate distance over candidate "
                "languages, in the pre and in the post space (one unit each per target)"
            ),
            test="bootstrap interval over candidate languages lies below 0",
            rule=Rule("below", "most"),
            chapter="crosslingual_retrieval",
            anchor="retrieval-table2",
            kind="r",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="table2.positive",
            section="§5, Table 2",
            title="Distances before and after are correlated",
            quote=(
                "The distances in the unintervened and intervened space are positively "
                "correlated—language embeddings that are closer to the target "
                "pre-intervention are also closer to the target post-intervention."
            ),
            line=471,
            paper="Table 2: r(d_post, d_pre) from −0.48 to 0.99 (positive for 14 of 15)",
            measure="Pearson r between d_post and d_pre over candidate languages",
            test="bootstrap interval over candidate languages lies above 0",
            rule=Rule("above", "most"),
            chapter="crosslingual_retrieval",
            anchor="retrieval-table2",
            kind="r",
        ),
        Claim(
            id="table2.gain_vs_shrink",
            section="§5, Table 2",
            title="The gain does not follow the shrinking distance",
            quote=(
                "However, the magnitude of the performance gain in the intervened space does "
                "not correlate with the reduction in distance between the match and target "
                "languages across the two spaces"
            ),
            line=488,
            paper="Table 2: r(Δacc, d_pre − d_post) from −0.72 to 0.89, most intervals include 0",
            measure="Pearson r between Δacc and d_pre − d_post over candidate languages",
            test="bootstrap interval over candidate languages includes 0",
            rule=Rule("contains", "most"),
            chapter="crosslingual_retrieval",
            anchor="retrieval-table2",
            kind="r",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="retrieval.other_queries",
            section="§5",
            title="Gains carry over to other query languages",
            quote=(
                "improvements observed when the query language is the intervention target "
                "(see Fig. 4 and Table 2) carry over to query languages other than the "
                "intervention-target language"
            ),
            line=496,
            paper="Fig. 5, Figs. 24–26 (heatmaps; no numbers printed)",
            measure="post − pre top-1 accuracy, mean over query–candidate pairs without the target",
            test="paired bootstrap interval over aligned queries lies above 0",
            rule=Rule("above", "most"),
            chapter="crosslingual_retrieval",
            anchor="retrieval-other-queries",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="paraphrase.preserved",
            section="§6",
            title="Within-language similarity is preserved",
            quote=(
                "First, the top-1 paraphrase retrieval accuracy remains largely unchanged after "
                "the intervention (see Table 3), indicating that the new embedding space "
                "preserves within-language similarity."
            ),
            line=502,
            paper=(
                "Table 3, Spanish pre → post: Bloom-7B 0.80 → 0.80, Aya-8B 0.85 → 0.86, "
                "PolyLM-13B 0.52 → 0.56"
            ),
            measure="post − pre paraphrase top-1 accuracy",
            test=(
                "paired bootstrap interval over queries lies above −¼ of pre's distance above "
                "chance (post keeps at least ¾ of what pre has above chance)"
            ),
            rule=Rule("above", "all"),
            chapter="paraphrase_retrieval",
            anchor="paraphrase-table",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="paraphrase.mixed_drops",
            section="§6",
            title="Mixing the two spaces breaks retrieval",
            quote=(
                "Second, when attempting retrieval between intervened and unintervened "
                "embeddings of the same language — i.e., using the embeddings from the "
                "unintervened model as the query and the embeddings from the intervened model "
                "as candidate matches — accuracy drops significantly."
            ),
            line=502,
            paper=(
                "Table 3, Spanish pre → mixed: Bloom-7B 0.80 → 0.33, Aya-8B 0.85 → 0.64, "
                "PolyLM-13B 0.52 → 0.41"
            ),
            measure="mixed − pre paraphrase top-1 accuracy",
            test="paired bootstrap interval over queries lies below 0",
            rule=Rule("below", "all"),
            chapter="paraphrase_retrieval",
            anchor="paraphrase-table",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="control.geometry",
            section="§7",
            title="Random units do not reshape the space",
            quote=(
                "The embedding space after the intervention on random neurons does not have the "
                "same properties as described in Section 4"
            ),
            line=568,
            paper="App. G, Figs. 27–29 (UMAP; no numbers)",
            measure=(
                "per target, the mean pairwise distance between non-target languages under k "
                "random units minus under the k experts (mean over the control's seeds; first "
                "n_control_sentences sentences); the variants are the two controls"
            ),
            test=(
                "bootstrap interval over aligned sentences (one draw of rows for every "
                "condition) lies above 0 (random units shrink it less)"
            ),
            rule=Rule("above", "all"),
            chapter="random_control",
            anchor="control-table1",
            kind="dist",
            variants=("experts' values", "own means"),
        ),
        Claim(
            id="control.retrieval",
            section="§7",
            title="Random units do not improve retrieval",
            quote="Intervention on random neurons does not provide an improvement on downstream tasks",
            line=504,
            paper=(
                "App. G, Figs. 30–32: Aya-8B and PolyLM-13B drop for all languages; Bloom-7B "
                "mostly unchanged (French improves, less than with its experts)"
            ),
            measure=(
                "post − pre top-1 accuracy with the target as query under k random units at the "
                "experts' values (the paper's control), mean over candidate languages and seeds; "
                "first n_control_sentences sentences"
            ),
            test=(
                "paired bootstrap interval over queries does not lie above 0 (a target needs pre "
                "or post above chance)"
            ),
            rule=Rule("not_above", "most"),
            chapter="random_control",
            anchor="control-retrieval",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="control.paraphrase",
            section="§7",
            title="Random units change paraphrase retrieval for the worse",
            quote=(
                "When they occur, these changes tend to be negative (i.e., the performance "
                "drops) after intervening on random neurons and positive after intervening on "
                "the actual language experts."
            ),
            line=568,
            paper="Table 6 against Tables 3 and 5, e.g. Aya-8B en post 0.81 (random) vs 0.87",
            measure=(
                "paraphrase top-1 (post) under k random units at the experts' values minus under "
                "the k experts, mean over seeds; first n_control_sentences pairs of each pool"
            ),
            test=(
                "paired bootstrap interval over queries lies below 0 (a target needs the experts' "
                "accuracy above chance)"
            ),
            rule=Rule("below", "most"),
            chapter="random_control",
            anchor="control-paraphrase",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="tatoeba.gains",
            section="App. H",
            title="Tatoeba confirms the retrieval gains",
            quote=(
                "we also present results on the validation split of Tatoeba (Tiedemann, 2012) "
                "and the test split of BUCC-18 (Hu et al., 2020) for an independent validation "
                "of our findings (see Appendix H)."
            ),
            line=354,
            paper=(
                "Table 7, Tatoeba pre → post, Spanish: Aya-8B 0.114 → 0.415, Bloom-7B 0.008 → "
                "0.551, PolyLM-13B 0.082 → 0.178; a gain in all 12 cells"
            ),
            measure=(
                "post − pre top-1 accuracy per target and direction (xx→en, en→xx; English reads "
                "the other targets' files) at the config's k"
            ),
            test=(
                "paired bootstrap interval over sentence pairs lies above 0 (a unit needs pre or "
                "post above chance, 1 in 1,000)"
            ),
            rule=Rule("above", "most"),
            chapter="tatoeba_bucc",
            anchor="tatoeba-table7",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
        Claim(
            id="bucc.gains",
            section="App. H",
            title="BUCC-18 confirms the retrieval gains",
            quote=(
                "we also present results on the validation split of Tatoeba (Tiedemann, 2012) "
                "and the test split of BUCC-18 (Hu et al., 2020) for an independent validation "
                "of our findings (see Appendix H)."
            ),
            line=354,
            paper="Table 7, BUCC-18 pre → post: e.g. Aya-8B de 0.017 → 0.332, fr 0.012 → 0.073",
            measure=(
                "post − pre top-1 accuracy on the BUCC-18 gold pairs per target and direction, at "
                "the config's k"
            ),
            test=(
                "paired bootstrap interval over sentence pairs lies above 0 (a unit needs pre or "
                "post above chance)"
            ),
            rule=Rule("above", "most"),
            chapter="tatoeba_bucc",
            anchor="tatoeba-table7",
            kind="pp",
            needs_above_chance=True,
            variants=SCORES,
        ),
    )
}


def claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id``; ``ValueError`` naming the known ids otherwise."""
    if claim_id not in CLAIMS:
        raise ValueError(f"unknown claim {claim_id!r}; claims are {sorted(CLAIMS)}")
    return CLAIMS[claim_id]


def _check_variant(c: Claim, variant: str) -> None:
    if variant not in c.variants:
        raise ValueError(f"claim {c.id!r} has variants {list(c.variants)}, got {variant!r}")


def assess(
    claim_id: str,
    evidence: Sequence[Evidence],
    *,
    variant: str = "",
    summary: Estimate | None = None,
    details: dict | None = None,
) -> Assessment:
    """Decide ``claim_id`` on the measured ``evidence`` (one item per unit).

    ``summary`` is the claim's overall value with its interval (e.g. the mean over
    targets), shown in the scorecard; ``details`` any extra numbers worth storing.
    """
    c = claim(claim_id)
    _check_variant(c, variant)
    if c.rule is None:
        raise ValueError(
            f"claim {claim_id!r} is never testable here ({c.untestable}); use not_testable"
        )
    verdict, reason = c.rule.verdict(evidence)
    return Assessment(c, variant, tuple(evidence), summary, verdict, reason, dict(details or {}))


def not_testable(claim_id: str, reason: str = "", *, variant: str = "") -> Assessment:
    """The assessment of a claim this run cannot test, with the reason (the claim's own
    ``untestable`` reason by default)."""
    c = claim(claim_id)
    _check_variant(c, variant)
    why = reason or c.untestable
    if not why:
        raise ValueError(f"say why claim {claim_id!r} is not testable here")
    return Assessment(c, variant, (), None, "not testable here", why)
