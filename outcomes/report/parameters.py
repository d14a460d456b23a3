"""The notebook contract's parameters: the reporting quarter, defaults, and `--params FILE.yaml`.

Every notebook receives (papermill injects them after its cell tagged `parameters`; dates are ISO
strings because papermill stores parameters as JSON):

===================  =======================================================================
extract              the extract folder (absolute), or a warehouse URL with secrets masked
                     (a reference the run owns: `outcomes.sources.share_with_notebooks`)
quarter              the reporting quarter, e.g. "2024Q1" (calendar: Q1 = January to March)
period_start         first day of the quarter, "2024-01-01"
period_end           last day of the quarter, "2024-03-31"
go_live              the programme's go-live date, "2017-10-01"
transition_months    months after go-live treated as transition (excluded from "after")
footprint            ONS codes of the local authorities of residence in the footprint
providers            provider (trust) codes of the collaborative's network
output_dir           folder for the notebook's results sidecar, figures and tables (absolute)
===================  =======================================================================

`go_live`, `transition_months`, `footprint` and `providers` can be overridden with a YAML file;
the footprint and providers default to the collaborative in `data_dictionary/codes/collaborative.yaml`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from outcomes.errors import UserError

__all__ = ["repo_root", "Quarter", "parse_quarter", "default_parameters", "load_overrides", "OVERRIDABLE", "CONTRACT"]

#: the programme go-live assumed when no --params file says otherwise: the South London
#: Partnership's CAMHS Tier 4 programme, October 2017 (the reference extract plants its effects
#: there too: outcomes.reference.DEFAULT_GO_LIVE; a test keeps the two equal); override it per
#: collaborative
DEFAULT_GO_LIVE = "2017-10-01"
#: months after go-live treated as transition (the reference extract phases its effects in over 6)
DEFAULT_TRANSITION_MONTHS = 6

#: parameters a --params file may set
OVERRIDABLE = ("go_live", "transition_months", "footprint", "providers")
#: every parameter each notebook receives, in the order they are injected
CONTRACT = (
    "extract", "quarter", "period_start", "period_end", "go_live", "transition_months",
    "footprint", "providers", "output_dir",
)


def repo_root() -> Path:
    """The repository holding the package (editable install), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter: 2024Q1 is 1 January to 31 March 2024."""

    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> dt.date:
        month = 3 * self.number
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def describe(self) -> str:
        """'1 January to 31 March 2024'."""
        return f"{self.start.day} {self.start:%B} to {self.end.day} {self.end:%B %Y}"

    def __str__(self) -> str:
        return self.label


def parse_quarter(text: str) -> Quarter:
    """'2024Q1' (also '2024-Q1', '2024q1') -> Quarter(2024, 1); anything else is a UserError."""
    match = re.fullmatch(r"\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*", str(text))
    if not match:
        raise UserError(f"--quarter {text!r}: expected a calendar quarter such as 2024Q1 (Q1 = January to March)")
    return Quarter(int(match.group(1)), int(match.group(2)))


def _collaborative() -> dict[str, list[str]]:
    try:
        from outcomes.dictionary import load_dictionary

        codes = load_dictionary().codes["collaborative"]
        return {"footprint": list(codes.group("footprint")), "providers": list(codes.group("network_providers"))}
    except Exception:  # noqa: BLE001 - the dictionary is validated elsewhere; fall back to nothing
        return {"footprint": [], "providers": []}


def default_parameters() -> dict[str, Any]:
    """The overridable parameters' defaults."""
    return {"go_live": DEFAULT_GO_LIVE, "transition_months": DEFAULT_TRANSITION_MONTHS, **_collaborative()}


def _iso_date(value: Any, where: str) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise UserError(f"{where}: go_live {value!r} is not a date (YYYY-MM-DD)") from None


def _codes(value: Any, key: str, pattern: str, example: str, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise UserError(f"{where}: {key} must be a non-empty list of codes such as [{example}]")
    codes = [str(v).strip() for v in value]
    bad = [c for c in codes if not re.fullmatch(pattern, c)]
    if bad:
        raise UserError(f"{where}: {key}: {', '.join(map(repr, bad))} not codes like {example}")
    return codes


def validate_overrides(overrides: dict[str, Any], where: str) -> dict[str, Any]:
    """Check the keys and types of overrides; return them normalised (dates as ISO strings)."""
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise UserError(
            f"{where}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(OVERRIDABLE)}"
            " (extract and quarter are given on the command line)"
        )
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if key == "go_live":
            out[key] = _iso_date(value, where)
        elif key == "transition_months":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UserError(f"{where}: transition_months must be a whole number of months >= 0, got {value!r}")
            out[key] = value
        elif key == "footprint":
            out[key] = _codes(value, key, r"[EWSN]\d{8}", "E09000022", where)
        elif key == "providers":
            out[key] = _codes(value, key, r"[A-Z0-9]{3,5}", "RV5", where)
    return out


def load_overrides(path: str | Path | None) -> dict[str, Any]:
    """The validated contents of a --params YAML file ({} if none)."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--params {path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise UserError(f"--params {path}: not valid YAML ({error})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"--params {path}: expected a mapping such as `go_live: 2021-10-01`")
    return validate_overrides(data, f"--params {path}")
