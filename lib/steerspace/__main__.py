"""``python -m steerspace``: the command line (:mod:`steerspace.book.cli`)."""

from steerspace.book.cli import main

raise SystemExit(main())
