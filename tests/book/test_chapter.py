"""The cells every chapter shares: warnings box, configuration dropdown, chapter header,
and the tidying of an executed notebook before it is committed."""

from __future__ import annotations

import warnings

import nbformat

from steerspace.book import chapter as notebook
from steerspace.book.run import is_progress_noise, tidy_executed_notebook
from steerspace.config import field_names, load_config


def test_warnings_box_groups_messages_without_classes_or_paths(monkeypatch):
    monkeypatch.setattr(notebook, "_CAUGHT", [])
    assert notebook.warnings_box() == ""
    monkeypatch.setattr(warnings, "showwarning", notebook._collect)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = notebook._collect
        for _ in range(3):
            warnings.warn(
                "3 units have a constant activation; their AUROC is NaN",
                RuntimeWarning,
                stacklevel=1,
            )
        warnings.warn("An input array is constant", UserWarning, stacklevel=1)
    box = notebook.warnings_box()
    assert box.startswith(":::{warning}") and box.endswith(":::")
    assert "- 3 units have a constant activation; their AUROC is NaN (×3)" in box
    assert "- An input array is constant\n" in box
    assert "RuntimeWarning" not in box and "UserWarning" not in box and ".py" not in box


def test_config_dropdown_and_header_show_every_key_and_the_rerun_command(tmp_path):
    cfg = load_config("gemma-3-270m", dtype="float32", cache_dir=str(tmp_path))
    dropdown = notebook.config_dropdown(cfg)
    assert dropdown.startswith(":::{dropdown} The configuration of this run (gemma-3-270m)")
    # every key, but one added after the committed results, left out at its default
    assert set(field_names()) - set(cfg.as_dict()) == {"embedding_storage"}
    for key in field_names():
        assert (f"| `{key}` |" in dropdown) == (key in cfg.as_dict())
    classroom = load_config("classroom", dtype="float32", cache_dir=str(tmp_path))
    assert "| `embedding_storage` | q8_0 |" in notebook.config_dropdown(classroom)
    header = notebook.chapter_header(cfg, "finding_experts", {"k": 200, "targets": ["es", "fr"]})
    assert "steerspace book --only finding_experts --set k=200 --set targets=[es,fr]" in header
    assert "overrides: {k: 200, targets: [es,fr]}" in header
    assert dropdown in header


def test_progress_noise_is_told_from_messages():
    assert is_progress_noise("\rLoading weights:   0%|          | 0/236 [00:00<?, ?it/s]")
    assert is_progress_noise("\rx: 100%|██████████| 236/236 [00:03<00:00, 77.43it/s]\n")
    assert is_progress_noise("\n")
    assert not is_progress_noise("RuntimeWarning: 3 units are constant\n")
    assert not is_progress_noise(
        "50%|█████     | 1/2 [00:01<00:01]\nTraceback (most recent call last)"
    )


#: the prefix of a glued value's mimetypes (myst-nb's glue, through papermill's record)
GLUE = "application/papermill.record/"


def test_tidy_hides_injected_parameters_drops_bars_and_reprs_keeps_warnings_and_paths(tmp_path):
    cells = [
        nbformat.v4.new_code_cell("config = 'x'", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("pipe.model"),
        nbformat.v4.new_code_cell("table"),
    ]
    bar = "\rLoading weights: 100%|██████████| 236/236 [00:03<00:00, 77.43it/s]"
    cells[1].outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=bar),
        nbformat.v4.new_output("stream", name="stderr", text="a library warning\n"),
        nbformat.v4.new_output("stream", name="stdout", text="kept\n"),
    ]
    shown = {"text/markdown": "**42**", "text/plain": "<IPython.core.display.Markdown object>"}
    table = {"text/html": "<table></table>", "text/plain": "   a\n0  1"}
    cells[2].outputs = [
        nbformat.v4.new_output("display_data", data=shown),
        nbformat.v4.new_output("execute_result", data=table, execution_count=1),
        nbformat.v4.new_output("display_data", data={"text/plain": shown["text/plain"]}),
        nbformat.v4.new_output("display_data", data={f"{GLUE}{k}": v for k, v in shown.items()}),
    ]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["papermill"] = {
        "input_path": "/home/someone/steerspace/book/.x.src.ipynb",
        "output_path": "/home/someone/steerspace/book/.x.run.ipynb",
    }
    path = tmp_path / "x.ipynb"
    nbformat.write(book, path)
    tidy_executed_notebook(path)
    tidy = nbformat.read(path, as_version=4)
    assert "remove-cell" in tidy.cells[0].metadata.tags
    assert [o.get("text") for o in tidy.cells[1].outputs] == ["a library warning\n", "kept\n"]
    # the repr IPython writes beside a display object's own mimetype goes, other text stays
    assert [dict(o.data) for o in tidy.cells[2].outputs] == [
        {"text/markdown": "**42**"},
        table,
        {"text/plain": shown["text/plain"]},
        {f"{GLUE}text/markdown": "**42**"},  # a glued value's record
    ]
    assert tidy.metadata.papermill == {"input_path": ".x.src.ipynb", "output_path": ".x.run.ipynb"}
    assert "/home/someone" not in path.read_text()
