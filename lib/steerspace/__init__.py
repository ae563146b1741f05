"""steerspace: the library of the book (see the README and the chapters in notebooks/).

The public API, for a researcher's own notebook, is the names in :data:`__all__`: load
a model, find a language's experts, intervene, embed, retrieve, and decide a claim
from its evidence. Each is documented with an example that the tests run. Everything
else (the pipeline with its cache, the analyses and figures of each chapter, the book's
runner) serves the book and may change between versions.
"""

import warnings as _warnings

# transformers imports tqdm.auto, which inside a notebook without ipywidgets warns once at
# import, with the installed package's path, into every chapter's output. The library's
# own bars are plain text (steerspace.infra.progress), so that warning says nothing to a reader.
_warnings.filterwarnings("ignore", message="IProgress not found", module="tqdm")

#: The public API: name -> the module that defines it (imported on first use, so that
#: ``import steerspace`` stays light: the book's runner never imports torch).
_PUBLIC = {
    "load_model": "steerspace.core.models",
    "find_experts": "steerspace.core.experts",
    "make_intervention": "steerspace.core.experts",
    "intervening": "steerspace.core.hooks",
    "embed": "steerspace.core.forward",
    "top1_accuracy": "steerspace.metrics.retrieval",
    "Estimate": "steerspace.metrics.inference",
    "Evidence": "steerspace.claims.rules",
    "Rule": "steerspace.claims.rules",
}
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str):
    if name in _PUBLIC:
        from importlib import import_module

        return getattr(import_module(_PUBLIC[name]), name)
    if name == "__version__":
        from importlib.metadata import version

        return version("steerspace")
    raise AttributeError(f"module 'steerspace' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
