"""The paper's published numbers (Sundar et al., ACL 2025) as CSV, to show beside ours.

Copied by hand from the paper's text; see the column notes in the project's
``shared/paper/tables/README.md``. ``paper_table("table1_distances")`` returns a DataFrame.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PAPER_DIR = Path(__file__).parent


def paper_table(name: str) -> pd.DataFrame:
    """One of the paper's tables by file stem (e.g. ``"appendixA_languages"``)."""
    path = PAPER_DIR / f"{name}.csv"
    if not path.is_file():
        names = sorted(p.stem for p in PAPER_DIR.glob("*.csv"))
        raise ValueError(f"unknown paper table {name!r}; choose from {names}")
    return pd.read_csv(path)
