"""The docs stay true: notebooks run top to bottom and are stored without outputs, the README's example
output is what the CLI prints, its Python blocks run, and every command and option is documented."""
import argparse
import re
from pathlib import Path

import pytest

from analyzer.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTEBOOK_TIMEOUT_S = 300
"""Per cell; each notebook takes a few seconds (well under 20 s) on two cores."""


def _read_notebook(path: Path):
    nbformat = pytest.importorskip("nbformat", reason="the notebook tests need the test extra: pip install '.[test]'")
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(notebook):
    nbclient = pytest.importorskip("nbclient", reason="the notebook tests need the test extra: pip install '.[test]'")
    pytest.importorskip("ipykernel", reason="the notebook tests need the test extra: pip install '.[test]'")
    nb = _read_notebook(notebook)
    # run from the repository root, as the notebooks say; a failing cell raises CellExecutionError
    client = nbclient.NotebookClient(nb, timeout=NOTEBOOK_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{notebook.name} has no code"
    assert all(cell.execution_count is not None for cell in code), "a code cell was not executed"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert any(cell.outputs for cell in code), f"{notebook.name} shows nothing"


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"quickstart.ipynb", "backward_vs_forward.ipynb", "comparing_sessions.ipynb",
            "validation.ipynb"} <= names


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(notebook):
    nb = _read_notebook(notebook)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{notebook.name} cell {i} has outputs: strip them before committing"
            assert cell.execution_count is None, f"{notebook.name} cell {i} has an execution count"


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text())[:2]


def test_readme_first_command_prints_the_example_and_writes_the_report(capsys, monkeypatch, tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```\n(sample_data/\S+\.csv\n.*?)```", readme, re.S).group(1)
    command = readme_commands()[0].split(" && ")[1].split()
    assert command[0] == "retrorun"
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")   # the command as a new user types it, here
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))     # a new user: no history database yet
    assert main(command[1:]) == 0
    assert capsys.readouterr().out == block
    page = (tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "provisional baseline" in page


def test_readme_commands_match_ci():
    ci = (ROOT / ".ci" / "run").read_text()
    assert all(command in ci for command in readme_commands())


README_PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_python_blocks():
    assert README_PYTHON_BLOCKS


@pytest.mark.parametrize("index", range(len(README_PYTHON_BLOCKS)))
def test_readme_python_block_runs(index, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = compile(README_PYTHON_BLOCKS[index], f"README.md python block {index + 1}", "exec")
    exec(code, {"__name__": "__readme__"})


def _cli_surface(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(command path, long option or None) for every subcommand and every long option of its --help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,), None
                yield from _cli_surface(sub, prefix + (name,))
        else:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    yield prefix, option


def _docs_text() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(p.read_text() for p in pages)


def _mentioned(word: str, text: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def test_cli_surface_is_found():
    surface = list(_cli_surface(build_parser()))
    commands = {" ".join(path) for path, option in surface if option is None}
    assert {"analyze", "simulate", "history", "history add", "compare", "trends"} <= commands
    assert ((), "--version") in surface and (("analyze",), "--json") in surface


def test_every_cli_command_and_option_is_documented():
    text = _docs_text()
    missing = []
    for path, option in _cli_surface(build_parser()):
        if option is None:
            # `retrorun history add` counts as mentioned by "retrorun history add" or by "history add"
            command = " ".join(path)
            if not (_mentioned("retrorun " + command, text) or (len(path) > 1 and _mentioned(command, text))):
                missing.append(f"retrorun {command}")
        elif not _mentioned(option, text):
            missing.append(f"retrorun {' '.join(path)} {option}".replace("  ", " "))
    assert not missing, "not mentioned in README.md or docs/*.md: " + ", ".join(missing)


MARKDOWN_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    links = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    broken = [link for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")
              and not (page.parent / link.split("#")[0]).exists()]
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


def test_readme_links_every_task_guide():
    readme = (ROOT / "README.md").read_text()
    guides = sorted(p.name for p in (ROOT / "docs" / "guides").glob("*.md") if p.name != "README.md")
    assert len(guides) >= 6 and all(f"docs/guides/{name}" in readme for name in guides)
