"""Hooks: module lookup, pooling with padding, recording, and intervention restore."""

from __future__ import annotations

import pytest
import torch

from steerspace.core.experts import make_intervention
from steerspace.core.hooks import Intervention, find_modules, intervening, layer_of, pool, recording

REGEX = r"model\.layers\.\d+\.mlp\.down_proj"


def test_find_modules_and_layer_of(model):
    mods = find_modules(model, REGEX)
    assert list(mods) == ["model.layers.0.mlp.down_proj", "model.layers.1.mlp.down_proj"]
    assert [layer_of(n) for n in mods] == [0, 1]
    with pytest.raises(ValueError, match="matches no module"):
        find_modules(model, r"nothing\.here")


def test_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(pool(hidden, mask, "mean"), torch.tensor([[2.0, 3.0]]))
    torch.testing.assert_close(pool(hidden, mask, "max"), torch.tensor([[3.0, 4.0]]))
    with pytest.raises(ValueError, match="pooling"):
        pool(hidden, mask, "median")


def _inputs(tokenizer, texts):
    return tokenizer(texts, return_tensors="pt", padding=True, padding_side="right")


def test_recording_captures_down_proj_input(model, tokenizer):
    enc = _inputs(tokenizer, ["abc", "de"])
    mods = find_modules(model, REGEX)
    seen = {}
    handle = mods["model.layers.1.mlp.down_proj"].register_forward_pre_hook(
        lambda m, a: seen.setdefault("x", a[0].detach().clone())
    )
    try:
        with recording(mods) as rec, torch.no_grad():
            rec.mask = enc["attention_mask"].bool()
            model.base_model(**enc)
    finally:
        handle.remove()
    expected = pool(seen["x"], enc["attention_mask"].bool())
    torch.testing.assert_close(rec.batch["model.layers.1.mlp.down_proj"], expected)
    assert all(not m._forward_pre_hooks for m in mods.values())


def _iv(model):
    mods = list(find_modules(model, REGEX))
    return Intervention(
        units={mods[0]: torch.tensor([0, 5]), mods[1]: torch.tensor([3])},
        values={mods[0]: torch.tensor([4.0, -4.0]), mods[1]: torch.tensor([2.5])},
        label="test",
    )


def test_intervention_changes_outputs_inside_and_restores_after(model, tokenizer):
    enc = _inputs(tokenizer, ["hello there", "hi"])
    with torch.no_grad():
        before = model(**enc).logits
        with intervening(model, _iv(model)):
            during = model(**enc).logits
        after = model(**enc).logits
    assert not torch.allclose(before, during)
    torch.testing.assert_close(before, after)


def test_intervention_sets_units_at_every_token(model, tokenizer):
    enc = _inputs(tokenizer, ["hello there"])
    mods = find_modules(model, REGEX)
    name = "model.layers.0.mlp.down_proj"
    seen = {}
    with intervening(model, _iv(model)):
        handle = mods[name].register_forward_pre_hook(lambda m, a: seen.setdefault("x", a[0]))
        try:
            with torch.no_grad():
                model.base_model(**enc)
        finally:
            handle.remove()
    x = seen["x"][0]
    assert torch.all(x[:, 0] == 4.0) and torch.all(x[:, 5] == -4.0)


def test_intervention_strength_interpolates(model, tokenizer):
    enc = _inputs(tokenizer, ["hello"])
    full, half = _iv(model), Intervention(**{**_iv(model).__dict__, "strength": 0.5})
    with torch.no_grad():
        base = model(**enc).logits
        with intervening(model, full):
            f = model(**enc).logits
        with intervening(model, half):
            h = model(**enc).logits
    assert not torch.allclose(h, base) and not torch.allclose(h, f)
    with pytest.raises(ValueError, match="strength"):
        Intervention(**{**_iv(model).__dict__, "strength": 1.5})


def test_hooks_removed_when_block_raises(model):
    mods = find_modules(model, REGEX)
    with pytest.raises(RuntimeError, match="boom"):
        with intervening(model, _iv(model)):
            assert any(m._forward_pre_hooks for m in mods.values())
            raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        with recording(mods):
            raise RuntimeError("boom")
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in mods.values())


def test_output_capture_intervention(model, tokenizer):
    import pandas as pd

    enc = _inputs(tokenizer, ["hello"])
    experts = pd.DataFrame({"module": ["model.layers.0.mlp"], "unit": [1], "mean_pos": [3.0]})
    iv = make_intervention(experts, label="out", capture="output")
    with torch.no_grad():
        base = model(**enc).logits
        with intervening(model, iv):
            post = model(**enc).logits
    assert not torch.allclose(base, post)
