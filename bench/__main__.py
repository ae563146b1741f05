"""``python -m bench``: the same as ``python bench/run_all.py``."""

from bench.run_all import main

raise SystemExit(main())
