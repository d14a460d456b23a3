"""CLI manners: every command's --help ends with examples and the shared source options, output
piped into a reader that stops early ends quietly, and every command names its source the same way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from outcomes.cli import COMMANDS, EXIT_BROKEN_PIPE, build_parser

SOURCE_OPTIONS = ("--extract", "--url", "--schema", "--engine", "--end-date")


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_shows_an_example(name):
    text = _subcommands()[name].format_help()
    assert "examples:" in text, f"outcomes {name} --help has no examples"
    example_lines = [line.strip() for line in text.split("examples:", 1)[1].splitlines() if line.strip().startswith(("outcomes ", "PG"))]
    assert example_lines and all(f"outcomes {name}" in line for line in example_lines), example_lines


@pytest.mark.parametrize("name", ["validate", "measure", "report", "load-warehouse"])
def test_commands_reading_an_extract_share_the_source_options(name):
    options = {option for action in _subcommands()[name]._actions for option in action.option_strings}
    assert set(SOURCE_OPTIONS) <= options


def test_output_piped_into_head_ends_quietly(small_reference_dir):
    """`outcomes measure ... | head`: the reader is gone before the measure is written (closed at
    once, so the test does not depend on pipe buffer sizes); no BrokenPipe traceback, SIGPIPE's code."""
    command = [sys.executable, "-m", "outcomes.cli", "measure", "bed_days", "--extract", str(small_reference_dir)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == EXIT_BROKEN_PIPE, stderr
    assert stderr == ""


def test_validate_takes_the_folder_or_the_shared_option(tiny_extract_dir, capsys):
    from outcomes.cli import main

    assert main(["validate", str(tiny_extract_dir)]) == 0
    assert main(["validate", "--extract", str(tiny_extract_dir)]) == 0
    assert capsys.readouterr().out.count("valid against the data dictionary") == 2
    assert main(["validate", str(tiny_extract_dir), "--extract", "/elsewhere"]) == 2
    assert "give the extract once" in capsys.readouterr().err
