"""The cached stages every chapter shares, behind one object.

``Pipeline(cfg)`` loads the corpus split, finds experts and embeds sentences, each
through the on-disk :class:`~steerspace.infra.cache.Cache`, so a chapter asks for what it
needs and only what is missing is computed. The model is loaded lazily: a chapter
whose inputs are all cached never loads it.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from steerspace.config import Config
from steerspace.core.checks import check_k
from steerspace.core.experts import expert_table, make_intervention, random_k, top_k
from steerspace.core.forward import embed, embed_layers, record_activations
from steerspace.core.generation import generate_free, perplexity
from steerspace.core.hooks import POOLINGS, Intervention, find_modules, pooled_name
from steerspace.core.models import (
    check_device,
    count_units,
    load_model,
    model_config,
    model_identity,
    resolve_dtype,
)
from steerspace.data import (
    Corpus,
    ParaphrasePairs,
    bible_paraphrases,
    load_bible,
    load_flores,
    load_pawsx,
)
from steerspace.data.languages import paper_languages
from steerspace.data.statistics import corpus_statistics
from steerspace.infra.cache import Cache, atomic_write, key_hash
from steerspace.infra.chapter_cache import record_output
from steerspace.metrics.geometry import UMAP_LAYOUT, umap_pre_post
from steerspace.metrics.retrieval import top1_hits

CONTROL_VALUES = ("experts", "own")
#: Memory for the logits of one perplexity pass (see :meth:`Pipeline.heldout_perplexity`).
PERPLEXITY_LOGITS_BYTES = 512 * 2**20


def split_indices(n: int, sizes: list[int], *, seed: int) -> list[np.ndarray]:
    """Disjoint random index sets of the given sizes out of ``range(n)``, seeded.

    Raises ``ValueError`` when the sizes add up to more than ``n``.
    """
    if sum(sizes) > n:
        raise ValueError(
            f"the corpus has {n} aligned sentences but {sum(sizes)} were asked for "
            f"({sizes}); lower n_expert_sentences/n_eval_sentences/n_heldout_sentences"
        )
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [np.sort(order[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def take(corpus: Corpus, rows: np.ndarray, languages: list[str] | None = None) -> Corpus:
    """The sub-corpus of the given aligned rows (and languages)."""
    langs = corpus.languages if languages is None else languages
    return Corpus(
        name=corpus.name,
        ids=tuple(corpus.ids[i] for i in rows),
        texts={lang: tuple(corpus.texts[lang][i] for i in rows) for lang in langs},
        sources={lang: corpus.sources.get(lang, "") for lang in langs},
    )


class Pipeline:
    """Corpus splits, activations, expert tables, interventions and embeddings for ``cfg``.

    Parameters
    ----------
    cfg
        The frozen config (see :func:`steerspace.config.load_config`).
    progress
        Show progress bars on forward passes.
    """

    def __init__(self, cfg: Config, *, progress: bool = True, cache: Cache | None = None) -> None:
        self.device_type = check_device(cfg.device).type
        # dtype "auto" → what this machine runs natively; the model and every cache key
        # see the resolved dtype
        self.cfg = cfg.replace(dtype=resolve_dtype(cfg.dtype, cfg.device, cache_dir=cfg.cache_dir))
        self.cache = Cache(cfg.cache_dir) if cache is None else cache
        self.progress = progress
        self._paraphrase_pools: dict[str, ParaphrasePairs] = {}

    # ---------------------------------------------------------------- model
    @cached_property
    def _model_and_tokenizer(self):
        lender = self.__dict__.get("_lender")
        if lender is not None:
            return lender._model_and_tokenizer
        return load_model(
            self.cfg.model,
            dtype=self.cfg.dtype,
            device=self.cfg.device,
            cache_dir=self.cfg.cache_dir,
            device_map=self.cfg.device_map,
            embedding_storage=self.cfg.embedding_storage,
        )

    def variant(self, **changes) -> Pipeline:
        """A pipeline for ``cfg`` with ``changes`` (e.g. ``pooling="max"``) that shares
        this one's model once loaded (``changes`` must not touch what loads it: model,
        dtype, device, placement), so two choices compared in one chapter hold one copy
        of the weights."""
        loading = {"model", "dtype", "device", "device_map", "cache_dir", "embedding_storage"}
        if loading & set(changes):
            raise ValueError(
                f"a variant shares the model; it cannot change {sorted(loading & set(changes))}"
            )
        other = Pipeline(self.cfg.replace(**changes), progress=self.progress, cache=self.cache)
        if "_model_and_tokenizer" in self.__dict__:
            other.__dict__["_model_and_tokenizer"] = self._model_and_tokenizer
        else:  # whichever loads it first lends it to the other
            other.__dict__["_lender"] = self
        return other

    @property
    def model(self):
        return self._model_and_tokenizer[0]

    @property
    def tokenizer(self):
        return self._model_and_tokenizer[1]

    @cached_property
    def model_id(self) -> str:
        """The model's identity by content (:func:`steerspace.core.models.model_identity`)."""
        return model_identity(self.cfg.model, cache_dir=self.cfg.cache_dir)

    def _key(self, **parts) -> dict:
        """What every cached stage depends on, plus the stage's own ``parts`` (which may
        override ``pooling``: embeddings use ``embedding_pooling``). The stage's version
        is added by the cache."""
        cfg = self.cfg
        return {
            "model": cfg.model,
            "model_id": self.model_id,
            "dtype": cfg.dtype,
            "device": self.device_type,
            "pooling": cfg.pooling,
            "include_bos": cfg.include_bos,
            "max_length": cfg.max_length,
            # sharding moves work between devices; keyed only when used, so the keys of
            # unsharded runs are those they always were
            **({"device_map": cfg.device_map} if cfg.device_map else {}),
            # the Q8_0 head's logits may differ from the float one's in the last bits
            **(
                {"embedding_storage": cfg.embedding_storage}
                if cfg.embedding_storage != "float"
                else {}
            ),
            **parts,
        }

    # ----------------------------------------------------------------- data
    @cached_property
    def expert_languages(self) -> list[str]:
        """Targets plus extra negatives: the sentences expert finding reads."""
        return list(dict.fromkeys([*self.cfg.targets, *self.cfg.extra_negatives]))

    @cached_property
    def eval_languages(self) -> list[str]:
        """Languages embedded and compared: ``cfg.languages``, or all paper languages
        the corpus has (the Bible has 17 of the 22)."""
        if self.cfg.languages:
            return list(self.cfg.languages)
        if self.cfg.corpus == "bible":
            from steerspace.data import bible_languages

            have = set(bible_languages())
            return [code for code in paper_languages() if code in have]
        return paper_languages()

    @cached_property
    def _splits(self) -> dict[str, Corpus]:
        cfg = self.cfg
        if cfg.corpus == "flores":
            # Experts on dev, evaluation on devtest (as the paper); perplexity text is the
            # targets' devtest (held out from expert finding; the paper uses Wikipedia).
            return {
                "expert": load_flores(
                    cfg.data_dir, self.expert_languages, split=cfg.expert_split
                ).select(stop=cfg.n_expert_sentences),
                "eval": load_flores(cfg.data_dir, self.eval_languages, split=cfg.eval_split).select(
                    stop=cfg.n_eval_sentences
                ),
                "heldout": load_flores(
                    cfg.data_dir, list(cfg.targets), split=cfg.eval_split
                ).select(stop=cfg.n_heldout_sentences),
            }
        wanted = list(dict.fromkeys([*self.expert_languages, *self.eval_languages]))
        corpus = load_bible(wanted)
        sizes = [cfg.n_expert_sentences, cfg.n_eval_sentences, cfg.n_heldout_sentences]
        expert, evaluation, heldout = split_indices(len(corpus), sizes, seed=cfg.seed)
        return {
            "expert": take(corpus, expert, self.expert_languages),
            "eval": take(corpus, evaluation, self.eval_languages),
            "heldout": take(corpus, heldout, list(cfg.targets)),
        }

    @property
    def expert_corpus(self) -> Corpus:
        """Sentences for expert finding (paper: Flores200 dev)."""
        return self._splits["expert"]

    @property
    def eval_corpus(self) -> Corpus:
        """Sentences for embeddings and retrieval (paper: Flores200 devtest)."""
        return self._splits["eval"]

    @property
    def heldout_corpus(self) -> Corpus:
        """Target-language text for perplexity (paper: Wikipedia)."""
        return self._splits["heldout"]

    def paraphrase_pairs(self, language: str) -> ParaphrasePairs:
        """Same-language paraphrase pairs for §6: PAWS-X test pairs if ``pawsx_dir`` is
        set, else the same verse in two Bible translations, drawing (seeded)
        ``n_eval_sentences`` verses not used for expert finding. Drawn once per language
        and pipeline (reading a Bible pool takes about a second)."""
        if language in self._paraphrase_pools:
            return self._paraphrase_pools[language]
        cfg = self.cfg
        if cfg.pawsx_dir:
            pairs = load_pawsx(cfg.pawsx_dir, language)
            rows = np.arange(len(pairs))
        else:
            pairs = bible_paraphrases(language)
            used = set(self.expert_corpus.ids)
            rows = np.array([i for i, vid in enumerate(pairs.ids) if vid not in used])
        rng = np.random.default_rng(cfg.seed)
        rows = np.sort(rng.choice(rows, size=min(cfg.n_eval_sentences, len(rows)), replace=False))
        self._paraphrase_pools[language] = ParaphrasePairs(
            language=pairs.language,
            ids=tuple(pairs.ids[i] for i in rows),
            queries=tuple(pairs.queries[i] for i in rows),
            candidates=tuple(pairs.candidates[i] for i in rows),
            source=pairs.source,
        )
        return self._paraphrase_pools[language]

    def paraphrase_hits(
        self,
        language: str,
        intervention: Intervention,
        *,
        score: str = "dot",
        n: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Per-query top-1 hits of paraphrase retrieval in ``language``'s pool (paper
        §6), on its first ``n`` pairs: ``pre`` (query and candidates from the original
        model), ``post`` (both under ``intervention``) and ``mixed`` (query original,
        candidates intervened); ``score`` is ``"dot"`` (the paper) or ``"cosine"``."""
        q_pre, c_pre = self.paraphrase_embeddings(language, None, n=n)
        q_post, c_post = self.paraphrase_embeddings(language, intervention, n=n)
        return {
            "pre": top1_hits(q_pre, c_pre, score=score),
            "post": top1_hits(q_post, c_post, score=score),
            "mixed": top1_hits(q_pre, c_post, score=score),
        }

    def paraphrase_embeddings(
        self, language: str, intervention: Intervention | None, *, n: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of the first ``n`` queries and candidates of ``language``'s
        paraphrase pool, with the original model or under ``intervention``: the whole
        pool's entry sliced where the cache has it (the paraphrase chapter embeds every
        pair; the random control reads the first ``n``), else only the ``n`` pairs, both
        sides in one pass."""
        pool = self.paraphrase_pairs(language)
        sides = {
            f"para-{language}-q": list(pool.queries),
            f"para-{language}-c": list(pool.candidates),
        }
        if n is not None and n < len(pool.queries):
            whole = self._cached_groups(sides, intervention)
            if whole is not None:
                return tuple(value[:n] for value in whole.values())
            sides = {label: sentences[:n] for label, sentences in sides.items()}
        out = self.embed_groups({label: (s, None) for label, s in sides.items()}, intervention)
        return tuple(out.values())

    def _cached_groups(
        self, groups: dict[str, list[str]], intervention: Intervention | None
    ) -> dict[str, np.ndarray] | None:
        """The cached embeddings of every group (label → sentences), or ``None`` if any
        is missing; nothing is computed."""
        cfg = self.cfg
        condition = "pre" if intervention is None else intervention.label
        out = {}
        for label, sentences in groups.items():
            key = self._key(
                data=key_hash({"sentences": sentences}),
                pooling=cfg.embedding_pooling,
                intervention=None if intervention is None else intervention.key(),
            )
            value = self.cache.peek_array(
                "embeddings", key, label=f"{cfg.name}-{label}-{condition}"
            )
            if value is None:
                return None
            out[label] = value
        return out

    # -------------------------------------------------------------- experts
    @cached_property
    def n_units(self) -> int:
        """How many candidate expert units the configured modules have, counted from the
        model's config without weights (and cached, so a warm run reads no model file)."""
        cfg = self.cfg
        key = {
            "model": cfg.model,
            "model_id": self.model_id,
            "modules": cfg.modules,
            "capture": cfg.capture,
        }

        def count() -> int:
            config = model_config(cfg.model, cache_dir=cfg.cache_dir)
            return count_units(config, cfg.modules, cfg.capture)

        return int(self.cache.json("units", key, count, label=cfg.name))

    def corpus_statistics(self, corpus) -> pd.DataFrame:
        """:func:`steerspace.data.statistics.corpus_statistics` of ``corpus`` with this model's
        tokenizer, cached: a warm run (or a cache unpacked from a teacher's) needs neither
        the tokenizer nor the model for it."""

        def compute() -> pd.DataFrame:
            return corpus_statistics(corpus, self.tokenizer).reset_index()

        key = self._key(data=corpus.fingerprint())
        table = self.cache.table("corpus_statistics", key, compute, label=self.cfg.name)
        return table.set_index("code")

    def check_k(self, k: int) -> int:
        """``k`` if it is a valid number of experts for this model, else ``ValueError``
        (:func:`steerspace.core.experts.check_k`)."""
        return check_k(k, self.n_units, units=f"units matched by modules={self.cfg.modules!r}")

    def _activations_key(self, language: str, pooling: str) -> dict:
        cfg = self.cfg
        return self._key(
            data=self.expert_corpus.select([language]).fingerprint(),
            modules=cfg.modules,
            capture=cfg.capture,
            pooling=pooling,
        )

    def activations(self, language: str) -> dict[str, np.ndarray]:
        """Pooled activations of the configured modules for one expert-set language.

        The one forward pass pools the units both ways (mean and max) and caches both,
        so a chapter that compares the poolings (finding experts) runs the expert
        sentences once."""
        cfg = self.cfg
        sentences = self.expert_corpus.sentences(language)
        label = f"{cfg.name}-{language}"

        def compute() -> dict[str, np.ndarray]:
            modules = find_modules(self.model, cfg.modules)
            both = record_activations(
                self.model,
                self.tokenizer,
                sentences,
                modules,
                capture=cfg.capture,
                pooling=POOLINGS,
                include_bos=cfg.include_bos,
                batch_size=cfg.batch_size,
                max_length=cfg.max_length,
                progress=f"activations {language}" if self.progress else False,
            )
            pooled = {how: {m: both[pooled_name(how, m)] for m in modules} for how in POOLINGS}
            for how in POOLINGS:
                if how != cfg.pooling:
                    key = self._activations_key(language, how)
                    self.cache.put_arrays("activations", key, pooled[how], label=label)
            return pooled[cfg.pooling]

        key = self._activations_key(language, cfg.pooling)
        return self.cache.arrays("activations", key, compute, label=label)

    def experts(self, target: str) -> pd.DataFrame:
        """The expert table of ``target``: every unit ranked by AUROC (paper §3.2).

        Positive set: the target's expert sentences; negative set: the other targets
        and the extra negatives (paper: the other four targets plus Chinese).
        """
        if target not in self.cfg.targets:
            raise ValueError(
                f"target {target!r} is not in the config's targets {list(self.cfg.targets)}"
            )
        negatives = [lang for lang in self.expert_languages if lang != target]
        key = self._key(
            data=self.expert_corpus.fingerprint(),
            modules=self.cfg.modules,
            capture=self.cfg.capture,
            target=target,
        )

        def compute() -> pd.DataFrame:
            positive = self.activations(target)
            neg_acts = [self.activations(lang) for lang in negatives]
            negative = {m: np.concatenate([acts[m] for acts in neg_acts]) for m in positive}
            return expert_table(positive, negative, target=target)

        return self.cache.table("experts", key, compute, label=f"{self.cfg.name}-{target}")

    def intervention(
        self,
        target: str,
        *,
        k: int | None = None,
        random_seed: int | None = None,
        values: str = "experts",
        strength: float = 1.0,
    ) -> Intervention:
        """Set ``target``'s top-``k`` experts to their positive-set means (paper §3.3).

        With ``random_seed``: the §7 control, ``k`` units drawn at random instead. Their
        ``values`` are the experts' values (``"experts"``, the paper's "we assign the
        activation levels of the language expert neurons ... to the same number of
        neurons chosen randomly": the i-th drawn unit gets the i-th expert's value) or
        each unit's own positive-set mean (``"own"``, a milder control).
        """
        if values not in CONTROL_VALUES:
            raise ValueError(f"values must be one of {list(CONTROL_VALUES)}, got {values!r}")
        k = self.check_k(self.cfg.k if k is None else k)
        table = self.experts(target)
        experts = top_k(table, k)
        if random_seed is None:
            return make_intervention(
                experts, label=f"{target}-top{k}", capture=self.cfg.capture, strength=strength
            )
        chosen = random_k(table, k, seed=random_seed)
        return make_intervention(
            chosen,
            label=f"{target}-random{k}-{values}-s{random_seed}",
            capture=self.cfg.capture,
            strength=strength,
            values=experts["mean_pos"].to_numpy() if values == "experts" else None,
        )

    # ----------------------------------------------------------- embeddings
    def _pooled(
        self,
        groups: dict[str, tuple[list[str], str]],
        intervention: Intervention | None,
        *,
        layers: bool,
    ) -> dict[str, np.ndarray]:
        """Cached forward passes over several groups of sentences: label → (sentences,
        data key), each group its own cache entry; the groups not in the cache run
        together in one forward pass (full batches across groups, and one pass instead
        of one per group: about twice as fast for groups of a few dozen sentences). Each
        group gets the pooled final-norm output (``layers=False``) or every layer's
        pooled state (``layers=True``, opened memory-mapped when read from the cache).

        Two processes missing the same groups at once both compute them (the first to
        store wins); the cache's lock per entry keeps every entry whole.

        An entry's key names its own sentences, not the groups computed with it, and its
        bytes depend on them a little (other batches, other float32 sums): a group
        computed alone or in company agrees to max |Δ| <= 2e-4 x its mean |x|, with the
        same top-1 retrieval choices (:mod:`steerspace.infra.stages` has the measured
        values; ``tests/test_pipeline.py`` checks it)."""
        cfg = self.cfg
        kind = "layer_embeddings" if layers else "embeddings"
        condition = "pre" if intervention is None else intervention.label
        keys = {
            label: self._key(
                data=data_key,
                pooling=cfg.embedding_pooling,
                **({"layers": "all"} if layers else {}),
                intervention=None if intervention is None else intervention.key(),
            )
            for label, (_, data_key) in groups.items()
        }
        names = {label: f"{cfg.name}-{label}-{condition}" for label in groups}
        out = {
            label: self.cache.peek_array(kind, keys[label], label=names[label], mmap=layers)
            for label in groups
        }
        missing = [label for label, value in out.items() if value is None]
        if missing:
            sentences = [s for label in missing for s in groups[label][0]]
            what = missing[0] if len(missing) == 1 else f"{len(missing)} groups"
            pooled = (embed_layers if layers else embed)(
                self.model,
                self.tokenizer,
                sentences,
                intervention=intervention,
                pooling=cfg.embedding_pooling,
                include_bos=cfg.include_bos,
                batch_size=cfg.batch_size,
                max_length=cfg.max_length,
                progress=f"embed {what} {condition}" if self.progress else False,
            )
            start = 0
            for label in missing:
                stop = start + len(groups[label][0])
                out[label] = np.ascontiguousarray(pooled[start:stop])
                self.cache.put_array(kind, keys[label], out[label], label=names[label])
                start = stop
        return out

    def embed_sentences(
        self,
        sentences: list[str],
        intervention: Intervention | None = None,
        *,
        label: str,
        data_key: str | None = None,
    ) -> np.ndarray:
        """Mean-pooled last hidden state of any ``sentences`` (cached by their content,
        or by ``data_key`` when the caller has a fingerprint already), with the original
        model (``None``) or under ``intervention``. ``label`` only names the cache file
        and the progress bar."""
        return self.embed_groups(
            {label: (sentences, data_key or key_hash({"sentences": sentences}))}, intervention
        )[label]

    def embed_groups(
        self,
        groups: dict[str, tuple[list[str], str | None]],
        intervention: Intervention | None = None,
    ) -> dict[str, np.ndarray]:
        """:meth:`embed_sentences` of several groups (label → (sentences, data key or
        ``None``)), each cached as its own entry; the uncached ones run in one forward
        pass."""
        return self._pooled(
            {
                label: (list(sentences), data_key or key_hash({"sentences": list(sentences)}))
                for label, (sentences, data_key) in groups.items()
            },
            intervention,
            layers=False,
        )

    def layer_embeddings(
        self, language: str, intervention: Intervention | None = None, *, n: int | None = None
    ) -> np.ndarray:
        """Pooled hidden states of every layer for the (first ``n``) evaluation sentences
        of ``language``, pre or post ``intervention``: (n, n_layers + 1, hidden_size),
        index 0 = embedding output, last index = final-norm output. One forward pass
        gives all layers; the array is cached and opened memory-mapped."""
        return self._layer_groups([language], intervention, n=n)[language]

    def _layer_groups(
        self, languages: list[str], intervention: Intervention | None, *, n: int | None
    ) -> dict[str, np.ndarray]:
        """:meth:`layer_embeddings` of several languages, the uncached ones in one pass."""
        groups = {}
        for language in languages:
            corpus = self.eval_corpus.select([language], stop=n)
            groups[language] = (list(corpus.sentences(language)), corpus.fingerprint())
        return self._pooled(groups, intervention, layers=True)

    def embeddings(
        self, language: str, intervention: Intervention | None = None, *, n: int | None = None
    ) -> np.ndarray:
        """Embeddings (pooled final-norm output, paper §4–§5) of the (first ``n``)
        evaluation sentences of ``language``, pre or post ``intervention``: the last
        layer of :meth:`layer_embeddings`, (n, hidden_size) float32."""
        return np.ascontiguousarray(self.layer_embeddings(language, intervention, n=n)[:, -1])

    def space(
        self, intervention: Intervention | None = None, *, n: int | None = None
    ) -> dict[str, np.ndarray]:
        """Embeddings of every evaluation language (first ``n`` sentences): one space,
        pre or post ``intervention`` (the languages not cached run in one pass)."""
        layers = self.layer_space(intervention, n=n)
        return {lang: np.ascontiguousarray(value[:, -1]) for lang, value in layers.items()}

    def layer_space(
        self, intervention: Intervention | None = None, *, n: int | None = None
    ) -> dict[str, np.ndarray]:
        """Like :meth:`space`, every layer: language → (n, n_layers + 1, hidden_size)."""
        return self._layer_groups(list(self.eval_languages), intervention, n=n)

    def post_spaces(self, *, k: int | None = None) -> dict[str, dict[str, np.ndarray]]:
        """target → the space under that target's top-``k`` expert intervention."""
        return {t: self.space(self.intervention(t, k=k)) for t in self.cfg.targets}

    def umap(
        self, pre: dict[str, np.ndarray], post: dict[str, np.ndarray]
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """:func:`~steerspace.metrics.geometry.umap_pre_post` of two spaces (first
        ``umap_sentences`` per language, seeded), cached by the arrays' content: UMAP is
        the slowest step of a warm build."""
        cfg = self.cfg
        n = cfg.umap_sentences
        digest = hashlib.sha256()
        for space in (pre, post):
            for lang in sorted(space):
                digest.update(lang.encode())
                digest.update(np.ascontiguousarray(space[lang][:n], dtype=np.float32).tobytes())
        key = {"task": "umap", "data": digest.hexdigest(), "n": n, "seed": cfg.seed, **UMAP_LAYOUT}

        def compute() -> dict[str, np.ndarray]:
            coords = umap_pre_post(pre, post, n=n, seed=cfg.seed)
            return {
                f"{lang}.{part}": xy[i]
                for lang, xy in coords.items()
                for i, part in enumerate(("pre", "post"))
            }

        stored = self.cache.arrays("umap", key, compute, label=cfg.name)
        return {lang: (stored[f"{lang}.pre"], stored[f"{lang}.post"]) for lang in pre}

    # ----------------------------------------------------------- generation
    def generations(self, intervention: Intervention | None = None) -> list[str]:
        """``n_generations`` free generations from BOS (temperature 1, top-p 0.9, seeded),
        with the original model or under ``intervention`` (cached)."""
        cfg = self.cfg
        key = self._key(
            task="generate",
            n=cfg.n_generations,
            max_new_tokens=cfg.max_new_tokens,
            seed=cfg.seed,
            batch_size=cfg.generation_batch_size,
            intervention=None if intervention is None else intervention.key(),
        )
        condition = "pre" if intervention is None else intervention.label

        def compute() -> list[str]:
            return generate_free(
                self.model,
                self.tokenizer,
                n=cfg.n_generations,
                max_new_tokens=cfg.max_new_tokens,
                intervention=intervention,
                seed=cfg.seed,
                batch_size=cfg.generation_batch_size,
                progress=f"generate {condition}" if self.progress else False,
            )

        return self.cache.json("generations", key, compute, label=f"{cfg.name}-{condition}")

    def heldout_perplexity(self, target: str, intervention: Intervention | None = None) -> dict:
        """Log-perplexity of the held-out ``target`` sentences (strided window), with the
        original model or under ``intervention`` (cached)."""
        cfg = self.cfg
        texts = self.heldout_corpus.sentences(target)
        key = self._key(
            task="perplexity",
            data=self.heldout_corpus.select([target]).fingerprint(),
            max_window=512,
            per_token=True,
            intervention=None if intervention is None else intervention.key(),
        )
        condition = "pre" if intervention is None else intervention.label

        def compute() -> dict:
            # the model's context, at most 512 tokens, with half-window stride
            window = min(512, int(getattr(self.model.config, "max_position_embeddings", 512)))
            # as many windows per pass as keep their scored logits (at most 4 bytes each)
            # under PERPLEXITY_LOGITS_BYTES, should the head run on all positions at once
            # (generation.logits_head's fallback): at a 262k vocabulary a window's logits
            # are 0.27 GB; the rebuilt head computes them a block of rows at a time
            vocab = int(self.model.get_output_embeddings().out_features)
            per_window = (window - window // 2 + 1) * vocab * 4
            return perplexity(
                self.model,
                self.tokenizer,
                texts,
                intervention=intervention,
                window=window,
                stride=window // 2,
                batch_size=max(1, min(cfg.batch_size, PERPLEXITY_LOGITS_BYTES // per_window)),
            )

        return self.cache.json("perplexity", key, compute, label=f"{cfg.name}-{target}-{condition}")

    # -------------------------------------------------------------- results
    def write_table(
        self, table: pd.DataFrame, name: str, *, index: bool = False, gzip: bool = False
    ) -> Path:
        """Save ``table`` as ``results_dir/<config name>/<name>.csv`` (``.csv.gz`` with
        ``gzip``, for the large ones; reproducible bytes: no timestamp in the header)
        and return the path."""
        path = self.cfg.results_path / (f"{name}.csv.gz" if gzip else f"{name}.csv")
        compression = {"method": "gzip", "mtime": 0} if gzip else None
        atomic_write(path, lambda tmp: table.to_csv(tmp, index=index, compression=compression))
        record_output(path)
        return path
