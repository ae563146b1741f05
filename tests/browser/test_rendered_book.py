"""The rendered book, checked in a real browser (headless Chromium driven by Selenium).

Not part of the default test run (``-m "not browser"`` in pyproject.toml). Run it with::

    apt-get install -y chromium chromium-driver
    pip install -q -e ".[test,browser]" && python -m pytest -m browser

It builds the book on the tiny smoke config (the ``built_book`` fixture of conftest.py),
or takes an already built one (``STEERSPACE_BROWSER_ROOT=. python -m pytest -m browser``
checks the default run in ``_build/html``), serves ``_build/html`` on a local port and opens every page: every image must load,
every internal link must point to an existing page and anchor, no page may show a
Python traceback, an error output or a Sphinx error message, and every chapter must
have figures, each with a numbered caption, a re-run box, exercises with folded
solutions and hidden code with a toggle (one test per chapter, so that the report
names the chapter). Full-page screenshots of every page are saved for review in
``$STEERSPACE_SCREENSHOTS`` (default ``_build/screenshots/`` in the repository), with
``intro-viewport.png``, the first screen of the title page at 1280 px (the README's
``docs/book-screenshot.png``).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from steerspace.book.structure import PAGES, chapters, has_figures

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("STEERSPACE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("STEERSPACE_CHROMEDRIVER", "/usr/bin/chromedriver")
WIDTH, HEIGHT = 1280, 900
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static"}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(html: Path):
    """Serve ``html`` on a free local port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def book_root(request) -> Path:
    """The tiny book's root, or ``$STEERSPACE_BROWSER_ROOT`` (a repository root whose
    ``_build/html`` was built, e.g. ``.`` after ``steerspace book``): the default run as
    readers see it."""
    given = os.environ.get("STEERSPACE_BROWSER_ROOT")
    return Path(given).resolve() if given else request.getfixturevalue("built_book")[0]


@pytest.fixture(scope="module")
def site(book_root):
    """``(base_url, html_dir, root)`` of the teacher's edition, served over HTTP."""
    html = book_root / "_build" / "html"
    with serve(html) as base:
        yield base, html, book_root


@pytest.fixture(scope="module")
def student_site(book_root):
    """The student edition of the same book (built from its executed notebooks)."""
    from steerspace.book.edition import build_student_edition

    html = build_student_edition(book_root).parent
    with serve(html) as base:
        yield base, html, book_root


@pytest.fixture(scope="module")
def driver():
    webdriver = pytest.importorskip("selenium.webdriver", reason='pip install -e ".[browser]"')
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file():
            pytest.fail(f"{path} not found: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    drv = webdriver.Chrome(options=options, service=service)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(scope="module")
def screenshots():
    out = Path(os.environ.get("STEERSPACE_SCREENSHOTS", ROOT / "_build" / "screenshots"))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


def pages(html: Path) -> list[Path]:
    """Every HTML page of the built book (not the theme's static files)."""
    return sorted(p for p in html.rglob("*.html") if not SKIP_DIRS & set(p.relative_to(html).parts))


def open_page(drv, url: str) -> None:
    drv.get(url)
    drv.execute_script(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager');"
    )
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "Array.from(document.images).every(i => i.complete);"
        )
    )


def full_page_png(drv) -> bytes:
    """A screenshot of the whole page (Chrome DevTools, beyond the viewport)."""
    metrics = drv.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = drv.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": max(WIDTH, int(size["width"])),
                "height": min(int(size["height"]), 30000),
                "scale": 1,
            },
        },
    )
    return base64.b64decode(shot["data"])


def ids_of(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def broken_links(drv, base: str, html: Path) -> list[str]:
    """Same-site links whose file, or whose #anchor in that file, does not exist."""
    hrefs = drv.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
    )
    broken = []
    for href in dict.fromkeys(hrefs):
        if not href.startswith(base):
            continue  # external (repository, Binder, Colab) or javascript:
        parts = urlsplit(href)
        rel = unquote(parts.path)[len(urlsplit(base).path) :]
        target = html / rel
        if rel == "" or target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{href} (no file {rel or 'index.html'})")
        elif parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in ids_of(target):
                broken.append(f"{href} (no id {parts.fragment!r})")
    return broken


PAGE_PROBLEMS = """
const bad = [];
for (const img of document.images) {
  if (!(img.complete && img.naturalWidth > 0)) bad.push('image not loaded: ' + img.src);
}
for (const el of document.querySelectorAll(
    '.output.traceback, .output.error, .output.stderr, .system-message, .problematic')) {
  bad.push('error output: ' + el.className + ': ' + el.innerText.slice(0, 200));
}
const text = document.body.innerText;
for (const needle of ['Traceback (most recent call last)', 'Exception ignored in']) {
  if (text.includes(needle)) bad.push('page text contains ' + JSON.stringify(needle));
}
return bad;
"""

FIGURES = """
const images = Array.from(document.querySelectorAll('.cell_output img'));
return images.map(img => {
  const figure = img.closest('figure');
  const caption = figure === null ? null : figure.querySelector('figcaption');
  return {
    src: img.src.split('/').pop(),
    numbered: caption !== null && caption.querySelector('.caption-number') !== null,
    caption: caption === null ? '' : caption.innerText.replace(/[\u2018\u2019]/g, "'"),  // smart quotes
    alt: img.getAttribute('alt') || '',
    width: img.getBoundingClientRect().width,
  };
});
"""

# What no cell output may show: a file path of the machine that built the book, or a raw
# Python warning (the library's warnings are shown in plain words in an admonition).
LEAKS = """
const bad = [];
for (const el of document.querySelectorAll('.cell_output')) {
  const text = el.innerText;
  const path = text.match(/(\\/root\\/|\\/home\\/|\\/tmp\\/|\\.venv|site-packages)[^\\s]*/);
  if (path) bad.push('a file path in an output: ' + path[0]);
  const warning = text.match(/\\b[A-Z][A-Za-z]*Warning\\b/);
  if (warning) bad.push('a Python warning class in an output: ' + warning[0]);
}
return bad;
"""
# What a reader must never see: a Python repr or dict printed by a cell, MyST markup that
# was not rendered, a figure shrunk below three quarters of its natural width, a table cell
# cut with an ellipsis, a visible code line wider than the column; on the student edition,
# a solution or a link to the teacher's notebooks.
RENDER_DEFECTS = """
const student = arguments[0];
const bad = [];
const REPR = /<[A-Za-z_][\\w.]* object( at 0x[0-9a-f]+)?>|^\\{'[^']+': |\\bName: [^\\n]*, dtype: |^dtype: [a-z0-9]+$/m;
for (const el of document.querySelectorAll('.cell_output')) {
  const m = el.innerText.match(REPR);
  if (m) bad.push('a Python repr in an output: ' + JSON.stringify(m[0].slice(0, 60)));
}
const main = document.querySelector('main') || document.body;
const role = main.innerText.match(/\\{(doc|ref|numref|glue:md|glue|paper|source|cite(:[pt])?)\\}`[^`]*`/);
if (role) bad.push('unrendered markup: ' + role[0].slice(0, 60));
for (const img of main.querySelectorAll('img')) {
  // the width the page asks for (a 2x PNG is asked at half its pixels), else its pixels
  const styled = img.style.width.endsWith('px') ? parseFloat(img.style.width) : 0;
  const natural = Number(img.getAttribute('width')) || styled || img.naturalWidth;
  const shown = img.getBoundingClientRect().width;
  if (natural > 0 && shown > 0 && shown < 0.75 * natural) {
    bad.push('a figure shown at ' + Math.round(100 * shown / natural) + ' % of its width: ' + img.src.split('/').pop());
  }
}
for (const cell of main.querySelectorAll('td, th')) {
  if (/\\w…\\s*$/.test(cell.innerText)) bad.push('a table cell cut: ' + JSON.stringify(cell.innerText.slice(-40)));
}
for (const pre of main.querySelectorAll('.cell_input pre')) {
  // folded code (a closed <details>; Chrome hides it by content-visibility) is not seen
  if (pre.closest('details:not([open])')) continue;
  if (pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1) {
    bad.push('a code line wider than the column: ' + JSON.stringify(pre.innerText.split('\\n').find(l => l.length > 80) || ''));
  }
}
if (student) {
  if (main.querySelector('div.solution')) bad.push('a solution on the student edition');
  if (/\\bsolutions?\\b/i.test(main.innerText)) bad.push('the student edition mentions solutions');
  for (const a of document.querySelectorAll('a[href]')) {
    if (/colab\\.research\\.google\\.com|mybinder\\.org|github\\.com\\/.*\\.ipynb/.test(a.href)) bad.push('a link to a notebook with solutions: ' + a.href);
  }
}
return bad;
"""
MIN_FIGURE_WIDTH = 300  # px at a 1280 px window
# a caption names the paper's figure or table it reproduces, or says it is not the paper's
PAPER_REFERENCE = re.compile(
    r"paper's (Fig|Table|App)|Figs?\. \d|Tables? \d|not (a figure )?(of|in) the paper|beyond the paper",
    re.I,
)


def test_every_page_renders_cleanly(site, driver, screenshots):
    check_every_page(site, driver, screenshots)


def test_every_page_of_the_student_edition_renders_cleanly(student_site, driver, tmp_path):
    check_every_page(student_site, driver, tmp_path, viewport=False, student=True)


def check_every_page(
    site, driver, screenshots: Path, *, viewport: bool = True, student: bool = False
) -> None:
    base, html, root = site
    all_pages = pages(html)
    names = chapters(root)
    assert {f"{n}.html" for n in names} <= {p.name for p in all_pages}, "chapters not built"
    problems: dict[str, list[str]] = {}
    for page in all_pages:
        rel = page.relative_to(html).as_posix()
        open_page(driver, base + rel)
        found = list(driver.execute_script(PAGE_PROBLEMS))
        found += broken_links(driver, base, html)
        found += list(driver.execute_script(LEAKS))
        found += list(driver.execute_script(RENDER_DEFECTS, student))
        if page.stem in names and page.parent.name == "book" and has_figures(page.stem):
            if not driver.execute_script(FIGURES):
                found.append("chapter without a figure")
        # files the page asked for and did not get (the browser asks for /favicon.ico
        # on its own; JavaScript errors of the theme are not checked)
        failed = [
            e["message"]
            for e in driver.get_log("browser")
            if "Failed to load resource" in e["message"]
            and base in e["message"]
            and "favicon.ico" not in e["message"]
        ]
        found += [f"missing file: {m}" for m in failed]
        shot = screenshots / (rel.replace("/", "__").removesuffix(".html") + ".png")
        shot.write_bytes(full_page_png(driver))
        if rel == "book/intro.html" and viewport:
            driver.save_screenshot(str(screenshots / "intro-viewport.png"))
        if found:
            problems[rel] = found
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in problems.items())
    assert len(list(screenshots.glob("*.png"))) == len(all_pages) + viewport


def test_title_page_has_question_headline_figure_and_references(site, driver):
    base, html, _ = site
    open_page(driver, base + "book/intro.html")
    text = driver.find_element("tag name", "main").text
    assert "question" in text and "The answer at a glance" in text and "Five takeaways" in text
    assert any("paper's claims on this run" in f["caption"] for f in driver.execute_script(FIGURES))
    assert (html / "book" / "references.html").is_file()
    open_page(driver, base + "book/references.html")
    entries = driver.find_elements("css selector", "main .citation, main dl.citation > dt")
    assert len(entries) >= 10, "the references page lists the BibTeX entries"


def test_scorecard_has_a_row_per_claim_with_a_verdict(site, driver):
    from steerspace.claims import CLAIMS

    base, _, _ = site
    open_page(driver, base + "book/scorecard.html")
    tables = [
        t for t in driver.find_elements("css selector", "main table")
        if "verdict" in t.find_element("css selector", "thead").text
    ]  # fmt: skip
    assert tables, "no table with a verdict column"
    rows = tables[0].find_elements("css selector", "tbody tr")
    paper_claims = [c for c in CLAIMS.values() if not c.extension]
    assert len(rows) == len(paper_claims)
    assert all(any(v in r.text for v in ("reproduced", "not testable")) for r in rows)
    links = tables[0].find_elements("css selector", "tbody tr a.reference.internal")
    assert len(links) >= len(paper_claims), "every claim links to the section that shows it"
    assert len(tables) >= 2, "the extensions have their own table"


# the chapters; the pages (intro, scorecard, course guide, exercises) have no Result box
# and no exercises
APPENDIX_CHAPTERS = ("performance",)
PAPER_CHAPTERS = [n for n in chapters(ROOT) if n not in PAGES]


@pytest.mark.parametrize("name", PAPER_CHAPTERS)
def test_chapter_has_result_rerun_box_exercises_and_hidden_code(site, driver, name):
    base, _, _ = site
    open_page(driver, base + f"book/{name}.html")
    titles = [e.text for e in driver.find_elements("css selector", ".admonition-title")]
    if name != "performance":
        assert titles and titles[0].startswith("Result"), f"{name}: no Result box first"
    assert any("Re-run this chapter" in t for t in titles), f"{name}: no re-run box"
    exercises = driver.find_elements("css selector", "div.exercise")
    numbers = [e.find_element("css selector", ".caption-number").text for e in exercises]
    # numbered per chapter (Exercise 4.2) in the numbered parts; the appendix is unnumbered
    number = r"Exercise \d+" if name in APPENDIX_CHAPTERS else r"Exercise \d+\.\d+"
    assert len(exercises) >= 2 and all(re.fullmatch(number, n.strip()) for n in numbers), (
        f"{name}: exercises must be numbered per chapter, got {numbers}"
    )
    solutions = driver.find_elements("css selector", "div.solution")
    assert len(solutions) >= 2, f"{name}: fewer than two solutions"
    assert all(s.find_elements("css selector", ".cell_output, .cell_input") for s in solutions), (
        f"{name}: a solution without executed code"
    )
    hidden = driver.find_elements("css selector", ".toggle-details, .tag_hide-input")
    assert hidden, f"{name}: no hidden code cell with a toggle"


@pytest.mark.parametrize("name", [n for n in chapters(ROOT) if has_figures(n)])
def test_figures_have_numbered_captions_naming_the_paper_alt_text_and_size(site, driver, name):
    base, _, _ = site
    open_page(driver, base + f"book/{name}.html")
    figures = driver.execute_script(FIGURES)
    assert figures, f"{name}: no figure"
    problems = []
    for f in figures:
        if not f["numbered"]:
            problems.append(f"{f['src']}: no numbered caption")
        if not PAPER_REFERENCE.search(f["caption"]):
            problems.append(f"{f['src']}: caption names no paper figure: {f['caption'][:80]!r}")
        if len(f["alt"]) < 15 or f["alt"].endswith(".png"):
            problems.append(f"{f['src']}: no alt text")
        if f["width"] < MIN_FIGURE_WIDTH:
            problems.append(f"{f['src']}: rendered {f['width']:.0f} px wide")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def exercise_numbers(drv) -> list[str]:
    return [
        e.find_element("css selector", ".caption-number").text.strip()
        for e in drv.find_elements("css selector", "div.exercise")
    ]


@pytest.mark.parametrize("name", PAPER_CHAPTERS)
def test_student_edition_keeps_the_exercises_and_drops_the_solutions(
    site, student_site, driver, name
):
    open_page(driver, site[0] + f"book/{name}.html")
    teacher = exercise_numbers(driver)
    open_page(driver, student_site[0] + f"book/{name}.html")
    assert exercise_numbers(driver) == teacher, f"{name}: exercise numbers differ"
    assert not driver.find_elements("css selector", "div.solution"), f"{name}: a solution"


def test_teachers_notes_are_in_the_teacher_edition_only(site, student_site, driver):
    heading = "For the teacher"
    open_page(driver, site[0] + "book/course_guide.html")
    assert heading in driver.find_element("tag name", "main").text
    open_page(driver, student_site[0] + "book/course_guide.html")
    assert heading not in driver.find_element("tag name", "main").text


PLANTED = {
    "repr": (
        '<div class="cell_output"><pre>&lt;IPython.core.display.Markdown object&gt;</pre></div>',
        False,
    ),
    "dict": ("<div class=\"cell_output\"><pre>{'score_counts': '37 rows'}</pre></div>", False),
    "series": (
        '<div class="cell_output"><pre>es    3\nName: languages, dtype: int64</pre></div>',
        False,
    ),
    "role": ("<p>See {doc}`course_guide` for the plan.</p>", False),
    "shrunk figure": (
        '<div style="width:300px"><img width="740" style="max-width:100%" src="data:image/png;base64,'
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="></div>',
        False,
    ),
    "cut cell": ("<table><tr><td>Languages are closer to each oth…</td></tr></table>", False),
    "wide code": (
        '<div class="cell_input"><pre style="width:200px;overflow:auto">x = '
        + "1 + " * 80
        + "1</pre></div>",
        False,
    ),
    "student solution": ('<div class="solution"><p>the answer</p></div>', True),
    "teacher notebook": (
        '<a href="https://colab.research.google.com/github/o/r/blob/main/book/x.ipynb">Colab</a>',
        True,
    ),
    "teacher notebook on Binder": (
        '<a href="https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/book/x.ipynb">Binder</a>',
        True,
    ),
}


@pytest.mark.parametrize("defect", PLANTED)
def test_each_render_check_fails_on_its_planted_defect(driver, tmp_path, defect):
    body, student = PLANTED[defect]
    (tmp_path / "page.html").write_text(
        f'<html><head><meta charset="utf-8"></head><body><main>{body}</main></body></html>',
        encoding="utf-8",
    )
    with serve(tmp_path) as base:
        open_page(driver, base + "page.html")
        assert driver.execute_script(RENDER_DEFECTS, student), f"{defect} not caught"
        (tmp_path / "clean.html").write_text(
            "<html><body><main><p>A clean page.</p></main></body></html>"
        )
        open_page(driver, base + "clean.html")
        assert driver.execute_script(RENDER_DEFECTS, student) == []
