"""The README's Python example runs (on the session's small reference extract)."""

from __future__ import annotations

import re

from conftest import ROOT


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    setup = text[: text.index("## ", text.index("## Set-up") + 3)]
    assert "make report" in setup and "make test" in setup


def test_readme_python_example_runs(small_reference_dir, capsys):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has a Python example"
    for block in blocks:
        exec(compile(block.replace('"data/reference"', repr(str(small_reference_dir))), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "rows_remaining" in out and "level_change" in out
