"""What every chapter does first: turn papermill parameters into a config and a pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from steerspace.config import Config, field_names, load_config
from steerspace.pipeline import Pipeline
from steerspace.plots import use_book_style
from steerspace.precision import AUTO, resolve_dtype


def setup_chapter(
    config: str, overrides: Mapping[str, Any] | None = None
) -> tuple[Config, Pipeline]:
    """Validate the chapter's parameters, set the figure style, return (config, pipeline).

    ``config`` is a shipped config name or a YAML path; ``overrides`` any config keys
    (see :class:`steerspace.config.Config`), e.g. ``{"k": 200, "targets": ["es"]}``.
    """
    cfg = load_config(config, **dict(overrides or {}))
    use_book_style()
    return cfg, Pipeline(cfg)


def config_table(cfg: Config) -> pd.DataFrame:
    """The config as a two-column table, for the top of a chapter (``dtype: auto``
    shows what it resolved to on this machine)."""
    values = cfg.as_dict()
    if cfg.dtype == AUTO:
        values["dtype"] = f"auto: {resolve_dtype(cfg.dtype, cfg.device, cache_dir=cfg.cache_dir)}"
    return pd.DataFrame(
        {"key": field_names(), "value": [str(values[k]) for k in field_names()]}
    ).set_index("key")
