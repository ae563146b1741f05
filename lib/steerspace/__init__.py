"""steerspace: the library of the book (see the README and the chapters in notebooks/)."""

import warnings as _warnings

# transformers imports tqdm.auto, which inside a notebook without ipywidgets warns once at
# import, with the installed package's path, into every chapter's output. The library's
# own bars are plain text (steerspace.infra.progress), so that warning says nothing to a reader.
_warnings.filterwarnings("ignore", message="IProgress not found", module="tqdm")
