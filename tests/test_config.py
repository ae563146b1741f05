"""Config: shipped configs load, overrides apply, bad values fail in one line."""

from __future__ import annotations

import re

import pytest

from steerspace.config import available_configs, load_config


def test_shipped_configs_load():
    names = available_configs()
    assert "gemma-3-270m" in names
    for name in names:
        assert load_config(name).name == name


def test_overrides_and_none_keeps_file_value():
    cfg = load_config("gemma-3-270m", k=7, targets="es,fr", seed=None)
    assert cfg.k == 7 and cfg.targets == ("es", "fr") and cfg.seed == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"kk": 3}, "unknown config key"),
        ({"targets": ["xx"]}, "unknown language 'xx'"),
        ({"k": 0}, "'k' must be a positive integer"),
        ({"dtype": "int8"}, "'dtype' must be one of"),
        ({"device": "gpu"}, "'device' must be"),
        ({"pooling": "median"}, "'pooling' must be one of"),
        ({"corpus": "flores"}, "needs data_dir"),
        ({"targets": ["zh"]}, "both targets and extra_negatives"),
    ],
)
def test_bad_values_raise_clear_errors(override, message):
    with pytest.raises(ValueError, match=message):
        load_config("gemma-3-270m", **override)


def test_missing_config_file():
    with pytest.raises(FileNotFoundError, match="config 'nope' not found"):
        load_config("nope")


def test_config_is_frozen():
    cfg = load_config("gemma-3-270m")
    with pytest.raises(AttributeError):
        cfg.k = 3
    assert cfg.replace(k=3).k == 3 and cfg.k == 500


def test_dose_response_grids():
    cfg = load_config("gemma-3-270m", dose_strengths="0.5, 1", dose_k_grid=[10, 20])
    assert cfg.dose_strengths == (0.5, 1.0) and cfg.dose_k_grid == (10, 20)
    with pytest.raises(ValueError, match=r"'dose_strengths' must be numbers in \(0, 1\]"):
        load_config("gemma-3-270m", dose_strengths=[1.5])
    with pytest.raises(ValueError, match="'dose_k_grid' must be positive"):
        load_config("gemma-3-270m", dose_k_grid=[0, 10])


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("gemma-3-270m", "model.layers.17.mlp.down_proj"),
        ("aya-23-8b", "model.layers.31.mlp.down_proj"),
        ("bloom-7b1", "transformer.h.29.mlp.dense_4h_to_h"),
        ("polylm-13b", "transformer.h.39.mlp.c_proj"),
    ],
)
def test_shipped_module_regexes_match_their_architecture(name, module):
    pattern = load_config(name).modules
    assert re.fullmatch(pattern, module)
    assert not re.fullmatch(pattern, module.replace(".mlp.", "xmlpx"))  # dots are literal
