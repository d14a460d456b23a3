"""The house's layers hold: the import-linter contracts in `.importlinter` (docs/design.md's layers,
the way in stacked one way, statistics free of MHSDS) and light imports where speed depends on them.

grimp, under import-linter, reads every import, including those inside functions, so an edge hidden
in a function breaks a contract as surely as one at the top of a module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: third-party libraries that take a second or more to import, and what must not load them
HEAVY = ("statsmodels", "lifelines", "scipy", "nbconvert")


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout and "5 kept" in done.stdout


@pytest.mark.parametrize("module", ["outcomes.its", "outcomes.survival", "outcomes.mirror", "outcomes.equity",
                                    "outcomes.cli"])
def test_importing_a_statistics_module_or_the_cli_loads_no_heavy_library(module):
    """A fresh interpreter: what importing `module` (and, for the CLI, building its parser, which
    `outcomes --help` does) loads of statsmodels, lifelines, scipy and nbconvert: nothing."""
    build = "; outcomes.cli.build_parser()" if module == "outcomes.cli" else ""
    code = (f"import sys, json, {module}{build}; "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_data_dictionary_imports_without_the_engines():
    """Cohorts, the reference generator and `outcomes validate --write-template` read the contract;
    that alone loads neither Ibis nor pandas (the way in's names load on first use)."""
    code = ("import sys, json, outcomes.source.contract.dictionary; "
            "print(json.dumps(sorted(m for m in ('ibis', 'pandas', 'outcomes.source.open') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
