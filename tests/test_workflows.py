"""The GitHub Actions workflows pass actionlint (with shellcheck on their scripts) and
zizmor, offline, and do what the README says they do."""

from __future__ import annotations

import shutil
import subprocess
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
    assert "-r requirements.lock" in script and "python -m pytest" in script


def test_pages_render_the_committed_notebooks_without_executing():
    workflow = load("book.yml")
    script = "\n".join(s.get("run", "") for s in workflow["jobs"]["build"]["steps"])
    assert "jupyter-book build" in script and "steerspace book" not in script
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
