"""Descriptive statistics of a corpus (the languages-and-data chapter)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase

from steerspace.data import Corpus
from steerspace.data.languages import LANGUAGES


def corpus_statistics(corpus: Corpus, tokenizer: PreTrainedTokenizerBase) -> pd.DataFrame:
    """Per language: name, script, sentences, mean characters and tokens per sentence,
    and tokens per character (fertility). Index: language code."""
    rows = {}
    for lang in corpus.languages:
        sents = corpus.sentences(lang)
        tokens = [len(ids) for ids in tokenizer(sents, add_special_tokens=False)["input_ids"]]
        chars = [len(s) for s in sents]
        rows[lang] = {
            "language": LANGUAGES[lang].name,
            "script": LANGUAGES[lang].script,
            "sentences": len(sents),
            "characters per sentence": round(float(np.mean(chars)), 1),
            "tokens per sentence": round(float(np.mean(tokens)), 1),
            "tokens per character": round(float(np.sum(tokens) / np.sum(chars)), 3),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("code")
