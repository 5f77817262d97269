"""The README's commands and example stay true."""

from __future__ import annotations

import re
from pathlib import Path

from rakennettu import load_workflow
from rakennettu.config import LAYER_FIELDS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    assert README.index("make demo") < README.index("## ")


def test_example_workflow_matches_the_readme_and_is_valid():
    example = (REPO / "docs" / "example-workflow.toml").read_text()
    block = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    assert block in example
    wf = load_workflow(REPO / "docs" / "example-workflow.toml", check_files=False)
    assert wf.town.name == "helsinki-kallio"
    assert [lay.role for lay in wf.layers] == ["buildings", "population", "heritage", "dem"]


def test_readme_lists_the_fields_of_every_role():
    for role, fields in LAYER_FIELDS.items():
        line = f"{role} `{' '.join(fields)}`" if fields else f"{role} none"
        assert line in " ".join(README.split()), role


def test_ci_calls_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
