"""The print edition: the built HTML book as one PDF, through Debian's Chromium.

Jupyter Book's own PDF routes need a LaTeX installation that handles every script of
the book (Japanese, Greek, Hindi, ...), or download a browser (pyppeteer). This one
joins the article of every page of the built book, in table-of-contents order, into one
HTML page beside the others (so figures and styles resolve as they do on the site),
and prints it with the system's headless Chromium: figures keep the size they have on
the screen, which fits an A4 page; folded code and solutions stay folded.

    steerspace book --no-execute --pdf        # the PDF of the executed book, in seconds
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

#: where Chromium is looked for (Debian's package names the binary ``chromium``)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
_ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(.*?)</article>', re.S)
_HEAD = re.compile(r"<head>(.*?)</head>", re.S)


def find_chromium() -> str:
    """The path of a Chromium binary, or one clear error saying how to install it."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(
        "the PDF is printed by Chromium, which is not installed; on Debian or Ubuntu: "
        "apt-get install -y chromium fonts-noto-cjk"
    )


def print_page(html: Path, pages: list[str]) -> Path:
    """Write ``book/print.html`` in the built site ``html``: the head of the first page
    and the article of each of ``pages`` (paths relative to ``html``, e.g.
    ``book/intro.html``), each starting a new sheet."""
    missing = [p for p in pages if not (html / p).is_file()]
    if missing:
        raise FileNotFoundError(f"the built book in {html} lacks {missing}; build it first")
    first = (html / pages[0]).read_text(encoding="utf-8")
    head = _HEAD.search(first)
    articles = []
    for page in pages:
        text = (html / page).read_text(encoding="utf-8")
        found = _ARTICLE.search(text)
        if found is not None:
            articles.append(f'<article class="bd-article steerspace-print">{found[1]}</article>')
    body = "\n".join(articles)
    out = html / "book" / "print.html"
    out.write_text(
        f"<!DOCTYPE html>\n<html><head>{head[1] if head else ''}</head>"
        f'<body class="steerspace-print-edition">{body}</body></html>\n',
        encoding="utf-8",
    )
    return out


def print_pdf(html: Path, pages: list[str], pdf: Path) -> Path:
    """The PDF of ``pages`` of the built site ``html`` at ``pdf`` (A4)."""
    source = print_page(html, pages)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    command = [
        find_chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        source.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"Chromium could not print the book to {pdf} ({last})")
    return pdf
