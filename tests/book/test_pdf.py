"""The print edition: the built pages' articles joined in table-of-contents order, and
printed by Chromium where it is installed."""

from __future__ import annotations

import shutil

import pytest

from steerspace.book.pdf import CHROMIUM_NAMES, print_page, print_pdf

PAGE = """<!DOCTYPE html><html><head><link rel="stylesheet" href="../_static/x.css"></head>
<body><nav>menu</nav><article class="bd-article" role="main"><h1>{title}</h1>
<p>{text}</p></article><footer>footer</footer></body></html>"""


def site(tmp_path):
    (tmp_path / "book").mkdir()
    for name, text in (("intro", "first"), ("scorecard", "second")):
        (tmp_path / "book" / f"{name}.html").write_text(
            PAGE.format(title=name.title(), text=text), encoding="utf-8"
        )
    return tmp_path


def test_the_print_page_holds_every_article_in_order_and_nothing_else(tmp_path):
    html = site(tmp_path)
    page = print_page(html, ["book/intro.html", "book/scorecard.html"]).read_text()
    assert page.index("first") < page.index("second")
    assert page.count('class="bd-article steerspace-print"') == 2
    assert "menu" not in page and "footer" not in page
    assert "../_static/x.css" in page  # the site's styles resolve from book/
    with pytest.raises(FileNotFoundError, match="build it first"):
        print_page(html, ["book/missing.html"])


@pytest.mark.skipif(
    not any(shutil.which(n) for n in CHROMIUM_NAMES), reason="apt-get install -y chromium"
)
def test_chromium_prints_the_book(tmp_path):
    pdf = print_pdf(site(tmp_path), ["book/intro.html", "book/scorecard.html"], tmp_path / "b.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
