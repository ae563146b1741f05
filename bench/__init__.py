"""Benchmarks of the steerspace pipeline (issue 6). Run them all with
``python bench/run_all.py`` (or ``python -m bench``); each writes
``bench/results/<name>.json`` and prints a one-line summary."""
