"""The docs stay true: notebooks run top to bottom, the README's example output is what the CLI prints."""
import json
import re
from pathlib import Path

import matplotlib
import pytest

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs(notebook, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{notebook.name}", "exec"), namespace)
    assert "result" in namespace and namespace["result"].summary.step_count > 100


def test_readme_example_output_is_current(capsys, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```\n(sample_data/\S+\.csv\n.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(ROOT)
    assert main(["analyze", block.splitlines()[0]]) == 0
    assert capsys.readouterr().out == block


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    test_command = re.findall(r"```sh\n(.*?)\n```", readme)[1]
    assert test_command in (ROOT / ".ci" / "run").read_text()
