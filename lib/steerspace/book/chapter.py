"""What every chapter does around its analysis: parameters to a config and a pipeline,
the re-run box, the folded configuration, the library's warnings, and the closing
scorecard rows."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from steerspace.book.structure import default_out
from steerspace.config import Config, field_names, load_config
from steerspace.core.precision import AUTO, resolve_dtype
from steerspace.figures.style import use_book_style
from steerspace.pipeline import Pipeline

_CAUGHT: list[warnings.WarningMessage] = []


def _collect(message, category, filename, lineno, file=None, line=None) -> None:
    _CAUGHT.append(warnings.WarningMessage(message, category, filename, lineno, file, line))


def setup_chapter(
    config: str, overrides: Mapping[str, Any] | None = None
) -> tuple[Config, Pipeline]:
    """Validate the chapter's parameters, set the figure style, start collecting the
    library's warnings (shown by :func:`show_warnings`), return (config, pipeline).

    ``config`` is a shipped config name or a YAML path; ``overrides`` any config keys
    (see :class:`steerspace.config.Config`), e.g. ``{"k": 200, "targets": ["es"]}``.
    A run with other parameters than the committed book's writes its results where the
    runner would (:func:`steerspace.book.structure.default_out`: ``runs/<run name>/``),
    whether the chapter runs under ``steerspace book``, papermill or by hand, unless
    ``results_dir`` is given.
    """
    overrides = dict(overrides or {})
    cfg = load_config(config, **overrides)
    if "results_dir" not in overrides:
        out = default_out(Path.cwd(), config, overrides, cfg.name)
        if out != Path.cwd():
            cfg = cfg.replace(results_dir=str(out.relative_to(Path.cwd()) / "results"))
    use_book_style()
    _CAUGHT.clear()
    warnings.simplefilter("default")
    warnings.showwarning = _collect
    return cfg, Pipeline(cfg)


def _readable(value: Any) -> str:
    """A config value as a reader writes it: lists joined, nothing as a dash."""
    if value is None or value == [] or value == ():
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "—"
    return str(value)


def config_table(cfg: Config) -> pd.DataFrame:
    """The config as a two-column table of readable values (``dtype: auto`` shows what
    it resolved to on this machine; a key :meth:`Config.as_dict` leaves out at its
    default is not shown)."""
    values = cfg.as_dict()
    if cfg.dtype == AUTO:
        values["dtype"] = f"auto: {resolve_dtype(cfg.dtype, cfg.device, cache_dir=cfg.cache_dir)}"
    keys = [k for k in field_names() if k in values]
    return pd.DataFrame({"key": keys, "value": [_readable(values[k]) for k in keys]}).set_index(
        "key"
    )


def config_dropdown(cfg: Config) -> str:
    """The config folded into a dropdown (MyST Markdown, to ``display(Markdown(...))``)."""
    rows = "\n".join(
        f"| `{k}` | {v.replace('|', '/')} |" for k, v in config_table(cfg)["value"].items()
    )
    return (
        f":::{{dropdown}} The configuration of this run ({cfg.name})\n"
        f"| key | value |\n|---|---|\n{rows}\n:::"
    )


def rerun_box(chapter: str, example: Mapping[str, Any]) -> str:
    """The chapter's "re-run this chapter" admonition, with an example override."""
    sets = " ".join(f"--set {k}={_yaml(v)}" for k, v in example.items())
    inline = ", ".join(f"{k}: {_yaml(v)}" for k, v in example.items())
    return f""":::{{admonition}} Re-run this chapter
:class: tip dropdown

From the repository root, with other parameters:

```bash
steerspace book --only {chapter} {sets} --no-build
```

or with papermill, which `steerspace book` runs for every chapter:

```bash
jupytext --to ipynb -o /tmp/ch.ipynb notebooks/{chapter}.py
papermill /tmp/ch.ipynb /tmp/ch.out.ipynb -p config gemma-3-270m -y "overrides: {{{inline}}}"
```

`config` is a name in `lib/steerspace/configs/` or a YAML path; `overrides` any key of
`lib/steerspace/config.py`. A run with overrides writes its tables and figures to its
own folder under `results/`.
:::"""


def chapter_header(cfg: Config, chapter: str, example: Mapping[str, Any]) -> str:
    """What opens every chapter under its Result box (MyST Markdown): the re-run box
    with an ``example`` override, the box for the course (learning goals and run times,
    :func:`steerspace.book.course.chapter_box`) and the folded configuration."""
    from pathlib import Path

    from steerspace.book.course import chapter_box

    parts = [rerun_box(chapter, example), chapter_box(Path.cwd(), chapter), config_dropdown(cfg)]
    return "\n\n".join(p for p in parts if p)


def _yaml(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def warnings_box() -> str:
    """The warnings the library raised while the chapter ran, as a visible admonition:
    their messages in plain words, grouped with counts (no warning classes, no file
    paths); empty when there were none."""
    counts = Counter(str(w.message).strip() for w in _CAUGHT)
    if not counts:
        return ""
    items = "\n".join(
        f"- {text}" + (f" (×{n})" if n > 1 else "") for text, n in counts.most_common()
    )
    return f":::{{warning}} Warnings raised while this chapter ran\n{items}\n:::"


def show_warnings() -> None:
    """Display :func:`warnings_box` where the chapter raised warnings; nothing at all
    otherwise (an empty Markdown output would print its Python repr on the page)."""
    box = warnings_box()
    if box:
        from IPython.display import Markdown, display

        display(Markdown(box))


def show_source(*objects: Any) -> None:
    """Display the library source of ``objects`` (functions, methods, classes) as code
    blocks: a chapter shows the computation it relies on, read from the code that ran."""
    import inspect
    import textwrap

    from IPython.display import Markdown, display

    blocks = []
    for obj in objects:
        source = textwrap.dedent(inspect.getsource(obj)).rstrip()
        where = f"{obj.__module__}.{obj.__qualname__}"
        blocks.append(f"`{where}`:\n\n```python\n{source}\n```")
    display(Markdown("\n\n".join(blocks)))
