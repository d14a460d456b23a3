"""The notebook contract: the parameters the runner owns, their defaults, and `--params FILE.yaml`.

A notebook declares, in its one cell tagged `parameters`, the names below that it uses, each set
to `None`; `outcomes report` injects (papermill, in a cell after it) only the names a notebook
declares. The notebook's session (`outcomes.notebook.start`) resolves them with
`notebook_parameters`, which keeps injected values and fills every `None` with the same default
the runner would use, so a notebook runs top to bottom on its defaults in JupyterLab, wherever it
was copied to. Dates are ISO strings (papermill stores parameters as JSON).

===================  =======================================================================
extract              the extract: a folder (absolute path) or a warehouse URL with secrets masked
                     (a reference the run owns: `outcomes.source.share`);
                     default: the built-in synthetic reference extract (`outcomes.reference.default_reference_extract`)
period_end           last day analysed, "2024-03-31": the reported quarter's end; default:
                     the extract's end date
go_live              the programme's go-live date; default `outcomes.programme.DEFAULT_GO_LIVE`, "2017-10-01"
transition_months    months after go-live treated as transition (excluded from "after"); default 6
                     (`outcomes.programme.DEFAULT_TRANSITION_MONTHS`)
footprint            ONS codes of the local authorities of residence in the footprint; default:
                     the collaborative in `data_dictionary/codes/collaborative.yaml`
providers            provider (trust) codes of the collaborative's network; default: the same file
targets              {measure: target} for SPC charts, in each measure's own units (its
                     dashboard unit); a target replaces `monitoring.yaml`'s, `null` removes it;
                     default {} (the targets `outcomes/measures/monitoring.yaml` sets: NHS standards)
output_dir           folder for the notebook's results sidecar, figures and tables (absolute);
                     default: a scratch folder outside the package (`outcomes.workspace.scratch_dir`)
===================  =======================================================================

`go_live`, `transition_months`, `footprint`, `providers` and `targets` can be overridden for a
report with a YAML file (`--params`); the quarter is the report's, recorded in its manifest, not a
notebook's. A target gives its measure's chart an assurance icon and puts a missed target on the
index's "needs attention" list; a measure without one shows "no target".
"""

from __future__ import annotations

import ast
import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from outcomes.dates import as_date
from outcomes.errors import UserError
from outcomes.programme import DEFAULT_GO_LIVE, DEFAULT_TRANSITION_MONTHS
from outcomes.reference import default_reference_extract
from outcomes.source.contract.dictionary import ContractError, load_dictionary
from outcomes.source.folder import read_extract_map
from outcomes.workspace import scratch_dir

__all__ = ["Quarter", "parse_quarter", "default_parameters", "load_overrides", "OVERRIDABLE", "CONTRACT",
           "NotebookParameters", "notebook_parameters", "declared_parameters"]

#: parameters a --params file may set
OVERRIDABLE = ("go_live", "transition_months", "footprint", "providers", "targets")
#: every parameter the runner can give a notebook, in the order they are injected; each notebook
#: receives only those its parameters cell declares
CONTRACT = ("extract", "period_end", "go_live", "transition_months", "footprint", "providers", "targets", "output_dir")


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
    if not match or not 1900 <= int(match.group(1)) <= 2999:
        raise UserError(f"--quarter {text!r}: expected a calendar quarter such as 2024Q1 (Q1 = January to March; "
                        "a year from 1900)")
    return Quarter(int(match.group(1)), int(match.group(2)))


def _collaborative() -> dict[str, list[str]]:
    """The collaborative's footprint and providers from the data dictionary's `collaborative` code
    list (a contract without it is a ContractError, never an empty footprint)."""
    contract = load_dictionary()
    try:
        codes = contract.codes["collaborative"]
        return {"footprint": list(codes.group("footprint")), "providers": list(codes.group("network_providers"))}
    except KeyError as missing:
        raise ContractError(f"data dictionary: the `collaborative` code list with groups `footprint` and "
                            f"`network_providers` is needed for the default footprint and providers ({missing})") from None


def default_parameters() -> dict[str, Any]:
    """The overridable parameters' defaults (go-live, transition, the collaborative's footprint and providers)."""
    return {"go_live": DEFAULT_GO_LIVE, "transition_months": DEFAULT_TRANSITION_MONTHS, **_collaborative(), "targets": {}}


def _iso_date(value: Any, where: str) -> str:
    try:
        return as_date(value).isoformat()
    except ValueError:
        raise UserError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


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
            out[key] = _iso_date(value, f"{where}: go_live")
        elif key == "transition_months":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UserError(f"{where}: transition_months must be a whole number of months >= 0, got {value!r}")
            out[key] = value
        elif key == "footprint":
            out[key] = _codes(value, key, r"[EWSN]\d{8}", "E09000022", where)
        elif key == "providers":
            out[key] = _codes(value, key, r"[A-Z0-9]{3,5}", "RV5", where)
        elif key == "targets":
            out[key] = _targets(value, where)
    return out


def _targets(value: Any, where: str) -> dict[str, float | None]:
    """{measure: target} with every measure a catalogue measure and every target a finite number (or
    null: no target)."""
    from outcomes.measures.catalogue import monitoring

    example = "targets: {cyp_on_adult_wards: 0, out_of_area_bed_days: 150}"
    if not isinstance(value, dict):
        raise UserError(f"{where}: targets must be a mapping of measure to target, such as `{example}`")
    known = monitoring()
    unknown = sorted(str(name) for name in value if name not in known)
    if unknown:
        raise UserError(f"{where}: targets: {', '.join(unknown)} not measures of the catalogue; known: {', '.join(known)}")
    out: dict[str, float | None] = {}
    for name, target in value.items():
        if target is None:
            out[name] = None
            continue
        if isinstance(target, bool) or not isinstance(target, int | float) or not math.isfinite(target):
            raise UserError(f"{where}: targets: {name}: {target!r} is not a number (in the measure's own units; "
                            "null for no target)")
        out[name] = float(target)
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


# ----------------------------------------------------------------------------- inside a notebook
@dataclass(frozen=True)
class NotebookParameters:
    """A notebook's contract parameters, resolved: injected by the runner or filled with its defaults.

    Only the names the notebook declares are resolved; the others stay None.
    """

    extract: str | None = None
    period_end: str | None = None
    go_live: str | None = None
    transition_months: int | None = None
    footprint: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    targets: dict[str, float | None] | None = None
    output_dir: str | None = None


def _extract_end(extract: str) -> str | None:
    """The end date an extract folder's extract.yaml states (None for a URL or when it states none)."""
    if "://" in extract:
        return None
    end = read_extract_map(Path(extract)).end_date
    return end.isoformat() if end else None


def notebook_parameters(notebook: str, namespace: dict[str, Any]) -> NotebookParameters:
    """Resolve a notebook's contract parameters, as its session does
    (`outcomes.notebook.start("01_bed_days", globals())` calls `notebook_parameters("01_bed_days", globals())`).

    Every contract name the notebook declared (present in `namespace`) keeps the value the runner
    injected, or, if still None, gets the runner's default (see the module docstring): the
    built-in reference extract (built on first use), its end date, go-live 2017-10-01, 6
    transition months, the collaborative's footprint and providers, and a scratch output folder
    named after `notebook`. Values are checked as a --params file is. The resolved values are
    written back into `namespace` (so the notebook reads them by name; lists for code lists) and
    returned.
    """
    where = f"{notebook} parameters"
    declared = {name: namespace[name] for name in CONTRACT if name in namespace}
    given = validate_overrides({k: v for k, v in declared.items() if k in OVERRIDABLE and v is not None}, where)
    defaults: dict[str, Any] = {}
    if any(declared.get(name) is None for name in OVERRIDABLE if name in declared):
        defaults = default_parameters()
    resolved: dict[str, Any] = {}
    for name, value in declared.items():
        if name in OVERRIDABLE:
            resolved[name] = given[name] if value is not None else defaults[name]
        elif name == "extract":
            resolved[name] = str(value) if value is not None else str(default_reference_extract())
        elif name == "output_dir":
            resolved[name] = str(value) if value is not None else str(scratch_dir(notebook))
    if "period_end" in declared:
        value = declared["period_end"]
        if value is not None:
            resolved["period_end"] = _iso_date(value, f"{where}: period_end")
        else:
            extract = resolved.get("extract") or str(default_reference_extract())
            resolved["period_end"] = _extract_end(extract)
    for name, value in resolved.items():
        namespace[name] = list(value) if isinstance(value, list | tuple) else value
    return NotebookParameters(**{k: tuple(v) if isinstance(v, list) else v for k, v in resolved.items()})


def declared_parameters(notebook: str | Path) -> tuple[str, ...]:
    """The contract names a notebook's cell tagged `parameters` assigns, in contract order (the
    names `outcomes report` injects into it)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return ()
    try:
        body = ast.parse(cells[0].source).body
    except SyntaxError as error:
        raise UserError(f"{notebook}: the parameters cell is not valid Python ({error.msg}, line {error.lineno})") from None
    assigned: set[str] = set()
    for node in body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        assigned |= {t.id for t in targets if isinstance(t, ast.Name)}
    return tuple(name for name in CONTRACT if name in assigned)
