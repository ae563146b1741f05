"""The provenance config ``gemma-3-270m-hub``: the default run on Google's original
Gemma-3-270M weights from the hub, loaded through the same code path as the default.
Tests never download: the model is overridden with a local tiny Gemma-3 folder."""

from __future__ import annotations

import torch
import yaml

from steerspace.config import CONFIG_DIR, load_config
from steerspace.core.forward import embed
from steerspace.pipeline import Pipeline

HUB_ID = "google/gemma-3-270m"


def _raw(name: str) -> dict:
    return yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def test_the_hub_config_is_the_default_but_for_its_name_and_model():
    default, hub = _raw("gemma-3-270m"), _raw("gemma-3-270m-hub")
    assert hub["name"] == "gemma-3-270m-hub" and hub["model"] == HUB_ID
    assert default["model"] == "embedded:gemma-3-270m"
    assert list(hub) == list(default)  # the same keys, in the same order
    assert {k: v for k, v in hub.items() if k not in ("name", "model")} == {
        k: v for k, v in default.items() if k not in ("name", "model")
    }
    cfg, base = load_config("gemma-3-270m-hub"), load_config("gemma-3-270m")
    assert cfg.model == HUB_ID
    assert cfg.replace(name=base.name, model=base.model) == base


def test_the_hub_config_loads_a_model_folder_through_the_pipeline(tiny_model_dir, tmp_path):
    cfg = load_config("gemma-3-270m-hub", model=str(tiny_model_dir), cache_dir=str(tmp_path))
    pipe = Pipeline(cfg, progress=False)
    assert pipe.cfg.dtype in ("float32", "bfloat16")  # dtype auto, resolved as the default's
    model, tokenizer = pipe.model, pipe.tokenizer
    assert type(model).__name__ == "Gemma3ForCausalLM" and not model.training
    assert model.dtype == {"float32": torch.float32, "bfloat16": torch.bfloat16}[pipe.cfg.dtype]
    # the default's module regex finds the MLP inputs: 2 layers x 64 units
    assert pipe.n_units == 128
    vectors = embed(model, tokenizer, ["In the beginning was the word."])
    assert vectors.shape == (1, 32)
