"""Token budget: the model work each chapter and stage of the default book asks for.

The whole default book runs once, from an empty cache, with the embedded model swapped for
a random stand-in of the same tokenizer and vocabulary (4 layers, hidden 64, so
``k_grid`` still fits its units): every sentence, generation and held-out text is the
same as in the real run, so the ledger (:mod:`steerspace.infra.ledger`) counts exactly
the tokens the real book forwards, generates and scores, in minutes instead of an hour.
The numbers the chapters print are meaningless and not kept; the JSON keeps the tokens
per chapter and per stage label (``activations es``, ``embed 17 groups pre``, ...), the budget that
the performance appendix audits. Generations that stop at EOS would generate fewer
tokens; the stand-in never emits it early, so generated tokens are an upper bound.

    python bench/token_budget.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.book import book_sources  # noqa: E402
from bench.common import ROOT, base_parser, write_result  # noqa: E402
from steerspace.book.structure import chapters  # noqa: E402
from steerspace.config import load_config  # noqa: E402
from steerspace.infra import ledger  # noqa: E402

#: the stand-in's shape: 4 layers x 2048 MLP units = 8192 units, above the largest k
STAND_IN = {"num_hidden_layers": 4, "hidden_size": 64, "num_attention_heads": 1, "head_dim": 64}


def save_stand_in(dest: Path, cache_dir: Path) -> Path:
    """Save a random Gemma-3 with the embedded model's tokenizer, vocabulary and MLP
    width (``STAND_IN`` for the rest) to ``dest``."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM

    from steerspace.core.models import embedded_model_config, embedded_model_dir

    config = embedded_model_config()
    for key, value in STAND_IN.items():
        setattr(config, key, value)
    config.layer_types = config.layer_types[: STAND_IN["num_hidden_layers"]]
    torch.manual_seed(0)
    Gemma3ForCausalLM(config).eval().save_pretrained(dest)
    AutoTokenizer.from_pretrained(embedded_model_dir(cache_dir)).save_pretrained(dest)
    return dest


def real_rule_k(config: str) -> int:
    """The k that the choice-of-k rule picked in the committed run of ``config``."""
    import pandas as pd

    from steerspace.analyses.choice_of_k import choose_k

    table = pd.read_csv(ROOT / "results" / load_config(config).name / "k_choice.csv")
    return choose_k(table)


def pin_rule_k(folder: Path, k: int) -> Path:
    """A ``sitecustomize`` in ``folder`` that makes every process on its path pick
    ``k`` by the choice-of-k rule."""
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        f"import steerspace.analyses.choice_of_k as rule\nrule.choose_k = lambda table, **_: {k}\n"
    )
    return folder


def label_table(folder: Path) -> list[dict]:
    """The ledger's calls summed per chapter, kind and label."""
    keys = ["chapter", "kind", "label"]
    sums = ledger.totals(ledger.read(folder), keys).drop(columns="seconds")
    return [
        {**dict(zip(keys, index, strict=True)), **{k: int(v) for k, v in row.items()}}
        for index, row in sums.iterrows()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="steerspace-budget-") as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        cache.mkdir()
        shared = Path(os.environ.get("STEERSPACE_CACHE", cache))
        model = save_stand_in(tmp / "stand-in", shared)
        root = book_sources(tmp / "book")
        rule_k = real_rule_k(args.config)
        site = pin_rule_k(tmp / "site", rule_k)
        path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        env = dict(os.environ, STEERSPACE_CACHE=str(cache), PYTHONPATH=path)
        env[ledger.ENV_VAR] = str(tmp / "led")
        argv = ["book", "--config", args.config, "--no-build", "--root", str(root)]
        argv += ["--out", str(root), "--set", f"model={model}"]
        for pair in args.set:
            argv += ["--set", pair]
        code = f"from steerspace.book.cli import main; raise SystemExit(main({argv!r}))"
        start = time.perf_counter()
        log = tmp / "book.log"
        with open(log, "w", encoding="utf-8") as out:
            proc = subprocess.run(
                [sys.executable, "-c", code],
                cwd=root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if proc.returncode:
            shutil.copy(log, Path.cwd() / "token_budget.log")
            print(f"the book failed (exit {proc.returncode}); its log: token_budget.log")
            return 1
        summary = ledger.summary(tmp / "led")
        rows = label_table(tmp / "led")
    kinds = summary["by_kind"]
    write_result(
        "token_budget",
        {
            "summary": (
                f"default book: {kinds['forward']['tokens'] / 1e6:.2f} M tokens forwarded, "
                f"{kinds['generate']['tokens'] / 1e3:.1f} k generated, "
                f"{kinds['perplexity']['tokens'] / 1e3:.1f} k scored"
            ),
            "config": load_config(args.config).as_dict(),
            "overrides": args.set,
            "stand_in": STAND_IN,
            "rule_k": rule_k,
            "seconds": round(time.perf_counter() - start, 1),
            "chapters_planned": chapters(ROOT),
            "by_kind": kinds,
            "by_chapter": summary["by_chapter"],
            "by_label": rows,
        },
        directory=args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
