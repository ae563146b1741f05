"""The GitHub Actions workflows pass actionlint (with shellcheck on their scripts) and
zizmor, offline, and do what the README says they do."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed; run: pip install -e '.[test]'"
    return path


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as True
    return workflow


def test_workflows_pass_actionlint_with_shellcheck():
    result = subprocess.run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), "-no-color"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_zizmor_offline():
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout


@pytest.mark.parametrize("broken", ["unpinned", "injection"])
def test_the_checks_catch_a_broken_workflow(tmp_path, broken):
    step = {
        "unpinned": "      - uses: actions/checkout@v4\n",
        "injection": "      - run: echo ${{ github.event.issue.title }}\n",
    }[broken]
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(
        "on: issues\npermissions: {}\njobs:\n  bad:\n    runs-on: ubuntu-latest\n    steps:\n"
        + step
    )
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(tmp_path / ".github" / "workflows")],
        capture_output=True,
        text=True,
    )
    assert (
        result.returncode != 0
        and ("unpinned-uses" if broken == "unpinned" else "template-injection") in result.stdout
    )


def test_tests_run_the_readme_command_on_three_pythons():
    job = load("tests.yml")["jobs"]["test"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    script = job["steps"][-1]["run"]
    assert '-r requirements-test.lock -e ".[book,test]"' in script
    assert "python -m pytest" in script


#: the workflows that build the book, and what they must not install: the test tools
BOOK_WORKFLOWS = {"book.yml": "build", "gpu-book.yml": "execute", "release.yml": "release"}
TEST_TOOLS = ("requirements-test.lock", "test]", "pytest", "ruff", "actionlint", "zizmor")


@pytest.mark.parametrize("name", sorted(BOOK_WORKFLOWS))
def test_book_workflows_install_the_book_lock_and_no_test_tools(name):
    steps = load(name)["jobs"][BOOK_WORKFLOWS[name]]["steps"]
    script = "\n".join(s.get("run", "") for s in steps)
    assert '-r requirements-book.lock -e ".[book]"' in script
    installs = [line for line in script.splitlines() if "pip install" in line]
    assert installs and not [t for t in TEST_TOOLS for line in installs if t in line]


def _build_lines(name: str, job: str) -> list[str]:
    """The install and build commands of a workflow's job, one per line."""
    script = "\n".join(s.get("run", "") for s in load(name)["jobs"][job]["steps"])
    return [
        ln.strip()
        for ln in script.splitlines()
        if any(word in ln for word in ("pip install", "jupyter-book", "steerspace book"))
    ]


def test_a_version_tag_releases_the_book_the_pages_render():
    workflow = load("release.yml")
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    job = workflow["jobs"]["release"]
    assert job["permissions"] == {"contents": "write"}
    # the release renders the book exactly as the Pages workflow does
    assert _build_lines("release.yml", "release") == _build_lines("book.yml", "build")
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert "gh release create" in script and "--verify-tag" in script
    assert '"steerspace-$TAG-html.zip" "steerspace-$TAG-results.zip"' in script
    assert "steerspace.pdf" in script  # the print edition
    assert "CHANGELOG.md" in script and "pyproject.toml" in script


def test_release_notes_come_from_the_changelog_section_of_the_tag(tmp_path):
    # the release step's awk program, run on this repository's CHANGELOG.md
    step = next(
        s["run"]
        for s in load("release.yml")["jobs"]["release"]["steps"]
        if "awk" in s.get("run", "")
    )
    program = step.split('awk -v v="$version" \'')[1].split("' CHANGELOG.md")[0]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    notes = subprocess.run(
        ["awk", "-v", f"v={version}", program, str(ROOT / "CHANGELOG.md")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    changelog = (ROOT / "CHANGELOG.md").read_text()
    section = changelog.split(f"## [{version}]")[1].split("\n## [")[0]
    assert notes.strip() and notes.strip() == section.split("\n", 1)[1].strip()


def test_pages_render_the_committed_notebooks_without_executing():
    workflow = load("book.yml")
    script = "\n".join(s.get("run", "") for s in workflow["jobs"]["build"]["steps"])
    # renders and prints the executed notebooks, executing nothing
    assert "steerspace book --no-execute --pdf" in script
    assert "papermill" not in script and "steerspace book --no-build" not in script
    assert "deploy-pages" in workflow["jobs"]["deploy"]["steps"][0]["uses"]


def test_the_gpu_book_is_manual_on_a_self_hosted_runner_and_uploads_the_run():
    workflow = load("gpu-book.yml")
    assert set(workflow["on"]) == {"workflow_dispatch"}
    assert "config" in workflow["on"]["workflow_dispatch"]["inputs"]
    execute = workflow["jobs"]["execute"]
    assert "self-hosted" in execute["runs-on"]
    script = "\n".join(s.get("run", "") for s in execute["steps"])
    assert 'steerspace book "${args[@]}"' in script
    assert any("upload-artifact" in s.get("uses", "") for s in execute["steps"])
    review = "\n".join(s.get("run", "") for s in workflow["jobs"]["review"]["steps"])
    assert "gh pr create --draft" in review
