"""The public API (``steerspace.__all__``): documented, and its examples run."""

import doctest
import inspect
import subprocess
import sys

import pytest

import steerspace

PUBLIC = [name for name in steerspace.__all__ if name != "__version__"]


def test_import_steerspace_stays_light():
    code = "import sys, steerspace; print('torch' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_has_a_numpydoc_docstring_with_an_example(name):
    obj = getattr(steerspace, name)
    doc = inspect.getdoc(obj.verdict if name == "Rule" else obj) or ""
    assert "Examples\n--------\n" in doc, f"{name} has no Examples section"
    assert ">>> " in doc.split("Examples\n--------\n", 1)[1]
    if inspect.isfunction(obj) and len(inspect.signature(obj).parameters) > 2:
        assert "Parameters\n----------" in doc or "see there for the parameters" in doc


def test_the_public_examples_run(tiny_model_dir):
    finder = doctest.DocTestFinder(recurse=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for name in PUBLIC:
        for test in finder.find(getattr(steerspace, name), name):
            test.globs = {"model_dir": str(tiny_model_dir)}
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
    assert result.attempted >= 25  # every example ran, not an empty finder


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        steerspace.nonsense  # noqa: B018
    assert steerspace.__version__ and "find_experts" in dir(steerspace)
