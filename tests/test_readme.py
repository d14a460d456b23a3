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


def test_the_design_page_is_the_one_cited_and_its_links_resolve():
    """Modules and the README cite docs/design.md, which the repository holds; its relative links
    (and the README's) lead to files that exist."""
    design = ROOT / "docs" / "design.md"
    assert design.is_file()
    bare = [f"{path.relative_to(ROOT)}:{n}" for path in [ROOT / "README.md", *sorted((ROOT / "outcomes").rglob("*.py"))]
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"(?<![\w/])design\.md", line)]
    assert not bare, f"cite docs/design.md, not design.md: {bare}"
    for page in (ROOT / "README.md", design):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to {target}, which is not there"


def test_the_design_page_pictures_every_subpackage():
    """The house on docs/design.md names each subpackage of outcomes/ (as `name/`), and names none
    that is not there."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    picture = text[text.index("```", text.index("## The house")):]
    picture = picture[:picture.index("```", 3)]
    package = picture[picture.index("\noutcomes/ "):picture.index("\ntests/ ")]
    data_folders = {"published", "validation_data", "templates", "notebooks", "data_dictionary", "outcomes"}
    named = set(re.findall(r"(?<![\w/.])([a-z_]+)/(?=[\s,(])", package)) - data_folders
    actual = {p.name for p in (ROOT / "outcomes").glob("**/") if (p / "__init__.py").is_file() and p.name != "outcomes"}
    assert actual - named == set(), f"subpackages missing from the picture: {sorted(actual - named)}"
    assert named - actual == set(), f"the picture names subpackages that are not there: {sorted(named - actual)}"
