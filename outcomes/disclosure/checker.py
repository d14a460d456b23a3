"""The output checker: reads a finished output folder for what must not be published, by the
count-naming convention of :mod:`outcomes.disclosure.rules` (`outcomes check-outputs DIR`).

What it can and cannot see
--------------------------
:func:`check_output_folder` walks a finished output folder and reports:

* ``small_count``: a number in 1..7 where the convention marks a count: in HTML ``<table>`` cells
  whose column header (any header row; colspan/rowspan honoured) or row label (an index ``<th>``)
  is a count name; in CSV/TSV columns whose header is a count name, or rows whose first cell is;
  in JSON values under count keys (every number below such a key), and in HTML tables held in JSON
  strings (notebook ``text/html`` outputs; plain-text DataFrame reprs are not read as tables).
  The number read is a cell's *leading* number, so tableone-style "3 (2.1%)" is read as 3;
  markers such as "[REDACTED]" or "<8" are not numbers.
* ``unrounded_count``: such a count above the threshold that is not a multiple of 5.
* the same two in **printed text**: what an executed notebook prints (streams, Markdown, plain text,
  the prose of HTML outputs) and the prose of HTML pages, TXT and MD files, read for counts by
  their words (:mod:`outcomes.disclosure.printed`: "44,363 bed days", "n = 6"; step numbers, ages,
  years, ranges, thresholds and percentages are labels, not counts); the finding says where:
  "printed text: '<the words around it>'".
* ``person_id``: any identifier from ``person_ids`` anywhere in the text of HTML, CSV, TSV, JSON,
  ipynb, TXT, MD, SVG, TEX files and in file names, as a whole token (not inside a longer
  alphanumeric string); embedded base64 images are skipped so their bytes cannot match by chance.
  ``person_ids`` is a collection, or an ``IdentifierLookup`` asked once, when the folder is
  finished, which of its alphanumeric tokens are identifiers (a report asks its engine: the 3.9
  million Person_IDs of an England-scale extract never come into Python).
* ``credential``: a URL carrying a password or a secret parameter (``postgresql://user:PW@...``,
  ``?password=``, ``;token=``), or any form (raw, percent-, HTML- or JSON-escaped) of a secret the
  run knows (its URL's password and secret parameters, PGPASSWORD), in the same files
  (``outcomes.credentials.find_secrets``); the finding shows the URL masked, never the secret.

It cannot see: numbers drawn inside images (PNG/JPG pixels; SVG text is searched for identifiers
only), so KM curves and their at-risk tables must be made from disclosure-controlled counts
(``plot(count_formatter=format_count)``); counts in columns or keys not named by the convention (it
cannot tell a count from a measurement in an unlabelled column); counts in prose without a noun
that counts ("3 of them", "Black CYP: 6"); JSON tables laid out by position (pandas ``orient="split"``/``"values"``; use
``"records"``); counts recoverable by differencing across tables or reports; identifiers other
than those given (it does not recognise NHS numbers or dates of birth by shape), and short
numeric identifiers collide with ordinary numbers (false alarms). Workbooks (``.xlsx``) are read
sheet by sheet as CSV. Images (PNG, JPEG) are listed in ``not_scanned``, not read; any other kind
of file (parquet, ``.csv.gz``, pickle, ``.xls``, PDF, ``.xhtml``, ``.dat``) is an ``unreadable`` finding: what cannot be checked is not published
(``PUBLISHABLE_SUFFIXES``).

Counts are read whatever their sign (a negative count gives its size away) and whether stored as
numbers or as text (``{"n": "3"}``); a CSV whose header is split by ``;`` or ``|`` is read with
that delimiter; identifiers are matched ignoring case.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import math
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes.credentials import find_secrets
from outcomes.disclosure.printed import counts_in_text, html_prose, printed_text
from outcomes.disclosure.rules import REDACT_AT_OR_BELOW, ROUNDING_BASE, _is_number, is_count_name
from outcomes.errors import UserError

__all__ = [
    "OutputFinding",
    "OutputCheck",
    "DisclosureError",
    "check_output_folder",
    "FolderChecker",
    "counts_in_file",
    "assert_output_folder_clean",
    "add_arguments",
    "run",
    "main",
]

TEXT_SUFFIXES = {".txt", ".md", ".svg", ".tex", ".log", ".xml"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".ipynb"}
#: workbooks, read sheet by sheet as CSV (openpyxl)
WORKBOOK_SUFFIXES = {".xlsx"}
#: images: published though their pixels cannot be read (figures are drawn from controlled counts)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
#: every kind of file a checked folder may hold; any other (parquet, .csv.gz, pickle, .xls, PDF,
#: .xhtml, .dat...) is a finding ("unreadable"): what the checker cannot read is not published
PUBLISHABLE_SUFFIXES = frozenset(TEXT_SUFFIXES | set(TABLE_SUFFIXES) | HTML_SUFFIXES | JSON_SUFFIXES
                                 | WORKBOOK_SUFFIXES | IMAGE_SUFFIXES)


@dataclass(frozen=True)
class OutputFinding:
    """One possible disclosure in an output file."""

    path: str  #: file, relative to the folder checked
    kind: str  #: "small_count", "unrounded_count", "person_id", "credential" or "unreadable"
    where: str  #: table/row/column, JSON path or line
    value: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind} {self.value!r} at {self.where}"


@dataclass
class OutputCheck:
    """What :func:`check_output_folder` found, read and could not read."""

    folder: Path
    findings: list[OutputFinding] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    not_scanned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([vars(f) for f in self.findings], columns=["path", "kind", "where", "value"])


class DisclosureError(AssertionError):
    """An output folder holds something that must not be published."""


#: a cell's leading number, its sign dropped (a count of -3 gives 3 away as well)
_LEADING_NUMBER = re.compile(r"^\s*[+\-\u2212]?(\d[\d,]*(?:\.\d+)?)(?![\d/:-])")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def _leading_number(text: str) -> float | None:
    match = _LEADING_NUMBER.match(str(text).replace("\u2009", "").replace("\xa0", ""))
    if not match:
        return None
    try:
        return float(match.group(1).replace(",", ""))
    except ValueError:
        return None


class _Rules:
    def __init__(self, redact_at_or_below: int, rounding_base: int, check_rounding: bool):
        self.threshold, self.base, self.check_rounding = redact_at_or_below, rounding_base, check_rounding
        self.seen: list[float] = []  #: every count judged, for the output-checking summary

    def judge(self, value: float) -> str | None:
        self.seen.append(value)
        value = abs(value)  # a negative count (a change, a difference) gives its size away as well
        if value == 0 or math.isnan(value):
            return None
        if value <= self.threshold:
            return "small_count"
        if self.check_rounding and self.base > 1 and not math.isclose(value % self.base, 0, abs_tol=1e-9):
            return "unrounded_count"
        return None


#: identifiers the checker cannot hold: given the case-folded alphanumeric tokens of a folder,
#: returns those that are identifiers (a report's engine answers: `Extract.person_ids_among`)
IdentifierLookup = Callable[[set[str]], set[str]]


class _IdScanner:
    """Finds whole-token occurrences of identifiers in text, given as a collection (held in a set)
    or as an `IdentifierLookup`, asked once for every token of a folder (`FolderChecker.finish`):
    then millions of identifiers never come into Python. A lookup's identifiers are letters and
    digits (MHSDS Person_IDs are), so its candidates are the alphanumeric tokens."""

    def __init__(self, person_ids: Iterable | IdentifierLookup):
        self.lookup = person_ids if callable(person_ids) else None
        # compared ignoring case: an identifier lower-cased in an output is the same person
        ids = set() if self.lookup else {str(i).strip().casefold() for i in person_ids
                                         if i is not None and not (isinstance(i, float | np.floating) and math.isnan(i))}
        ids.discard("")
        self.ids = ids
        # one match over all of them (a quarter of a million ids: 0.05 s rather than 0.5 s one by one)
        self.simple = self.lookup is not None or re.fullmatch(r"[A-Za-z0-9\n]*", "\n".join(ids)) is not None
        if ids and not self.simple:
            alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
            self.pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)

    def candidates(self, text: str) -> dict[str, int]:
        """Tokens of `text` that are or may be identifiers (as written), each with the line of its
        first occurrence: with a lookup every alphanumeric token, else those in the set."""
        if not self.ids and self.lookup is None:
            return {}
        text = _DATA_URI.sub(" ", text)
        matches = re.finditer(r"[A-Za-z0-9]+", text) if self.simple else self.pattern.finditer(text)
        first, line, counted = {}, 1, 0
        for match in matches:
            token = match.group()
            if token in first or (self.lookup is None and token.casefold() not in self.ids):
                continue
            line += text.count("\n", counted, match.start())
            counted = match.start()
            first[token] = line
        return first

    def known(self, tokens: set[str]) -> set[str]:
        """Those of `tokens` (case-folded) that are identifiers."""
        if not tokens:
            return set()
        return set(self.lookup(tokens)) if self.lookup is not None else tokens & self.ids


class _TableParser(HTMLParser):
    """Collects every <table> as rows of cells: (text, is_th, in_thead, colspan, rowspan)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple]]] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._stack.append({"rows": [], "thead": False, "cell": None})
        elif not self._stack:
            return
        state = self._stack[-1]
        if tag == "thead":
            state["thead"] = True
        elif tag == "tr":
            state["rows"].append([])
        elif tag in ("td", "th"):
            if not state["rows"]:
                state["rows"].append([])
            span = lambda k: int(attrs.get(k) or 1) if str(attrs.get(k) or 1).isdigit() else 1  # noqa: E731
            state["cell"] = {"text": [], "th": tag == "th", "thead": state["thead"],
                             "colspan": span("colspan"), "rowspan": span("rowspan")}
        elif tag == "br" and state["cell"] is not None:
            state["cell"]["text"].append(" ")

    def handle_endtag(self, tag):
        if not self._stack:
            return
        state = self._stack[-1]
        if tag in ("td", "th") and state["cell"] is not None:
            cell = state["cell"]
            state["rows"][-1].append(("".join(cell["text"]).strip(), cell["th"], cell["thead"],
                                      cell["colspan"], cell["rowspan"]))
            state["cell"] = None
        elif tag == "thead":
            state["thead"] = False
        elif tag == "table":
            self.tables.append(self._stack.pop()["rows"])

    def handle_data(self, data):
        if self._stack and self._stack[-1]["cell"] is not None:
            self._stack[-1]["cell"]["text"].append(data)


def _grid(rows: list[list[tuple]]) -> list[list[tuple]]:
    """Lay cells on a grid, repeating colspan/rowspan cells so that columns line up."""
    empty = ("", False, False, 1, 1)
    grid, pending = [], {}  # pending: column -> (rows still to fill, cell)
    for row in rows:
        line = {}
        for col, (left, cell) in list(pending.items()):
            line[col] = cell
            if left == 1:
                del pending[col]
            else:
                pending[col] = (left - 1, cell)
        col = 0
        for cell in row:
            while col in line:
                col += 1
            for _ in range(cell[3]):
                line[col] = cell
                if cell[4] > 1:
                    pending[col] = (cell[4] - 1, cell)
                col += 1
        width = max(line) + 1 if line else 0
        grid.append([line.get(j, empty) for j in range(width)])
    return grid


def _check_html_tables(text: str, rel: str, rules: _Rules, where_prefix: str = "") -> list[OutputFinding]:
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    findings = []
    for t, rows in enumerate(parser.tables, start=1):
        grid = _grid(rows)
        header_count = 0
        for line in grid:  # header rows: in <thead>, else the leading all-<th> rows
            if line and (all(c[2] for c in line) or all(c[1] for c in line)):
                header_count += 1
            else:
                break
        headers, body = grid[:header_count], grid[header_count:]
        width = max((len(line) for line in grid), default=0)
        labels = {j: [h[j][0] for h in headers if j < len(h) and h[j][0]] for j in range(width)}
        count_cols = {j for j, names in labels.items() if any(is_count_name(n) for n in names)}
        for i, line in enumerate(body, start=1):
            row_is_count = any(c[1] and is_count_name(c[0]) for c in line)
            for j, cell in enumerate(line):
                if not (j in count_cols or (row_is_count and not cell[1])):
                    continue
                value = _leading_number(cell[0])
                kind = None if value is None else rules.judge(value)
                if kind:
                    column = "/".join(labels.get(j, [])) or str(j)
                    findings.append(OutputFinding(rel, kind, f"{where_prefix}table {t}, body row {i}, column {column!r}",
                                            cell[0]))
    return findings


def _delimiter(text: str, default: str) -> str:
    """The delimiter of a delimited file: `default` unless its header line is split by `;` or `|`
    and not by `default` (European CSV writes `;`)."""
    header = text.split("\n", 1)[0]
    if default in header:
        return default
    return next((d for d in (";", "|", "\t", ",") if d in header), default)


def _check_delimited(text: str, rel: str, rules: _Rules, delimiter: str) -> list[OutputFinding]:
    rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text, delimiter)))
    if not rows:
        return []
    header, findings = rows[0], []
    count_cols = {j for j, name in enumerate(header) if is_count_name(name)}
    for i, row in enumerate(rows[1:], start=2):
        row_is_count = bool(row) and is_count_name(row[0]) and _leading_number(row[0]) is None
        for j, cell in enumerate(row):
            if j in count_cols or (row_is_count and j > 0):
                value = _leading_number(cell)
                kind = None if value is None else rules.judge(value)
                if kind:
                    column = header[j] if j < len(header) else str(j)
                    findings.append(OutputFinding(rel, kind, f"line {i}, column {column!r}", cell))
    return findings


#: keys of nbformat's own structure that look like counts but number cells, not people
NOTEBOOK_STRUCTURE_KEYS = frozenset({"execution_count"})


def _check_json(node, rel: str, rules: _Rules, path: str = "$", under_count: bool = False) -> list[OutputFinding]:
    findings = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if str(key).startswith("image/"):
                continue  # base64 image data in notebooks
            if rel.endswith(".ipynb") and key in NOTEBOOK_STRUCTURE_KEYS:
                continue
            child = f"{path}.{key}"
            if key == "text/html":
                text = "".join(value) if isinstance(value, list) else str(value)
                findings += _check_html_tables(text, rel, rules, where_prefix=f"{child}: ")
                continue
            findings += _check_json(value, rel, rules, child, under_count or is_count_name(key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            findings += _check_json(value, rel, rules, f"{path}[{k}]", under_count)
    elif under_count and (_is_number(node) or (isinstance(node, str) and _leading_number(node) is not None)):
        number = float(node) if _is_number(node) else _leading_number(node)  # {"n": "3"} is a count too
        kind = rules.judge(number)
        if kind:
            findings.append(OutputFinding(rel, kind, path, str(node)))
    elif isinstance(node, str) and "<table" in node:
        findings += _check_html_tables(node, rel, rules, where_prefix=f"{path}: ")
    return findings


def _json_text(node) -> str:
    """Keys and values of a JSON document as text, without base64 images."""
    if isinstance(node, Mapping):
        return "\n".join(f"{k}\n{_json_text(v)}" for k, v in node.items() if not str(k).startswith("image/"))
    if isinstance(node, list):
        return "\n".join(_json_text(v) for v in node)
    return "" if node is None else str(node)


def _workbook_sheets(path: Path) -> list[str] | None:
    """Each sheet of an .xlsx workbook as CSV text (cells' values, not formulas); None if unreadable."""
    from openpyxl import load_workbook  # only for a folder holding a workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - not a workbook openpyxl can read: unreadable
        return None
    sheets = []
    for sheet in book.worksheets:
        out = io.StringIO()
        writer = csv.writer(out)
        for row in sheet.iter_rows(values_only=True):
            writer.writerow(["" if value is None else value for value in row])
        sheets.append(out.getvalue())
    book.close()
    return sheets


#: kinds of text file whose prose is read for counts (SVG, TeX, logs and XML are searched for identifiers only)
PROSE_SUFFIXES = {".txt", ".md"}


def _check_prose(text: str, rel: str, rules: _Rules) -> list[OutputFinding]:
    """Counts in printed text, known by their words (`outcomes.disclosure.printed.counts_in_text`)."""
    findings = []
    for count in counts_in_text(text):
        kind = rules.judge(float(count.value))
        if kind:
            findings.append(OutputFinding(rel, kind, f"printed text: {count.context!r}", f"{count.value:,}"))
    return findings


def _check_file_counts(text: str, rel: str, suffix: str, rules: _Rules) -> tuple[list[OutputFinding], str]:
    """Count findings in one file's text, and the text to search for identifiers."""
    if suffix in HTML_SUFFIXES:
        findings = _check_html_tables(text, rel, rules) + _check_prose(html_prose(text), rel, rules)
        return findings, text + "\n" + html.unescape(text)
    if suffix in TABLE_SUFFIXES:
        return _check_delimited(text, rel, rules, TABLE_SUFFIXES[suffix]), text
    if suffix in JSON_SUFFIXES:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return [], text
        findings = _check_json(document, rel, rules)
        if suffix == ".ipynb" and isinstance(document, Mapping):
            findings += _check_prose(printed_text(document), rel, rules)
        return findings, _json_text(document)
    if suffix in PROSE_SUFFIXES:
        return _check_prose(text, rel, rules), text
    return [], text


def counts_in_file(
    path: str | Path,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
) -> tuple[list[float], list[OutputFinding]]:
    """Every number the checker reads as a count in one file (HTML/CSV/TSV/JSON/ipynb/TXT/MD), and its
    count findings; ([], []) for other file types. Used by the output-checking summary."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in HTML_SUFFIXES | JSON_SUFFIXES | set(TABLE_SUFFIXES) | PROSE_SUFFIXES:
        return [], []
    rules = _Rules(redact_at_or_below, rounding_base, check_rounding=True)
    findings, _ = _check_file_counts(file.read_text(encoding="utf-8", errors="replace"), file.name, suffix, rules)
    return rules.seen, findings


class FolderChecker:
    """:func:`check_output_folder` in parts: files checked as they are finished (`check`, from any
    thread: the report checks each notebook's files as its worker renders it, while other notebooks
    run), then `finish` checks every file not checked yet, or changed since (by size and
    modification time), and returns the whole folder's report, in file order."""

    def __init__(self, path: str | Path, person_ids: Iterable | IdentifierLookup = (),
                 redact_at_or_below: int = REDACT_AT_OR_BELOW, rounding_base: int = ROUNDING_BASE,
                 check_rounding: bool = True):
        self.folder = Path(path)
        self.rules = _Rules(redact_at_or_below, rounding_base, check_rounding)
        self.ids = _IdScanner(person_ids)
        self._checked: dict[str, _Checked] = {}
        self._lock = threading.Lock()

    def check(self, files: Iterable[str | Path]) -> None:
        """Check these files of the folder (directories and missing files are skipped)."""
        for file in files:
            file = Path(file)
            if file.is_file():
                self._check_file(file)

    def _check_file(self, file: Path) -> None:
        rel = file.relative_to(self.folder).as_posix()
        stat = file.stat()
        suffix = file.suffix.lower()
        findings, in_text = [], {}
        scanned = suffix in HTML_SUFFIXES | JSON_SUFFIXES | TEXT_SUFFIXES | set(TABLE_SUFFIXES)
        sheets = _workbook_sheets(file) if suffix in WORKBOOK_SUFFIXES else None
        if scanned:
            text = file.read_text(encoding="utf-8", errors="replace")
            with self._lock:  # the rules keep what they have seen
                counts, searchable = _check_file_counts(text, rel, suffix, self.rules)
            findings += counts + _credentials(rel, searchable)
            in_text = self.ids.candidates(searchable)
        elif sheets is not None:
            with self._lock:
                for sheet in sheets:  # each sheet a table with its own header row
                    findings += _check_delimited(sheet, rel, self.rules, ",")
            findings += _credentials(rel, "\n".join(sheets))
            in_text = self.ids.candidates("\n".join(sheets))
            scanned = True
        elif suffix not in IMAGE_SUFFIXES:  # what cannot be read is not published
            findings.append(OutputFinding(rel, "unreadable", "a kind of file the output checker cannot read "
                                          f"(publishable: {', '.join(sorted(PUBLISHABLE_SUFFIXES))})",
                                          "".join(file.suffixes) or file.name))
        checked = _Checked((stat.st_size, stat.st_mtime_ns), self.ids.candidates(rel), findings, in_text, scanned)
        with self._lock:
            self._checked[rel] = checked

    def finish(self) -> OutputCheck:
        """Check what is left, and report on every file now in the folder; identifiers are looked
        for among the tokens of every file at once (one question to a lookup)."""
        report = OutputCheck(folder=self.folder)
        files = []
        for file in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            rel = file.relative_to(self.folder).as_posix()
            stat = file.stat()
            if rel not in self._checked or self._checked[rel].stat != (stat.st_size, stat.st_mtime_ns):
                self._check_file(file)
            files.append((rel, self._checked[rel]))
        tokens = {t.casefold() for _, checked in files for t in [*checked.in_name, *checked.in_text]}
        known = self.ids.known(tokens)
        for rel, checked in files:
            # one finding per identifier per file: in its name, then its text's first line holding it
            report.findings += [OutputFinding(rel, "person_id", "file name", t) for t in checked.in_name
                                if t.casefold() in known]
            report.findings += checked.findings
            report.findings += [OutputFinding(rel, "person_id", f"line {line}", t) for t, line in checked.in_text.items()
                                if t.casefold() in known]
            (report.scanned if checked.scanned else report.not_scanned).append(rel)
        return report


@dataclass(frozen=True)
class _Checked:
    """One file as checked: its (size, mtime), the tokens of its name and text that may be
    identifiers (with their first line), and its other findings."""

    stat: tuple[int, int]
    in_name: dict[str, int]
    findings: list[OutputFinding]
    in_text: dict[str, int]
    scanned: bool


def _credentials(rel: str, searchable: str) -> list[OutputFinding]:
    """A file's secrets, shown masked: never echo a secret."""
    return [OutputFinding(rel, "credential", "a URL with a password or token", secret)
            for secret in dict.fromkeys(find_secrets(searchable))]


def check_output_folder(
    path: str | Path,
    person_ids: Iterable | IdentifierLookup = (),
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    check_rounding: bool = True,
) -> OutputCheck:
    """Scan a finished output folder (recursively) for unredacted small counts, unrounded counts
    and any of ``person_ids``; see the module docstring for what it can and cannot see."""
    return FolderChecker(path, person_ids, redact_at_or_below, rounding_base, check_rounding).finish()


def assert_output_folder_clean(path: str | Path, person_ids: Iterable = (), **rules) -> OutputCheck:
    """:func:`check_output_folder`, raising :class:`DisclosureError` listing every finding."""
    report = check_output_folder(path, person_ids, **rules)
    if not report.ok:
        listing = "\n".join(f"  {f}" for f in report.findings)
        raise DisclosureError(f"{len(report.findings)} disclosure finding(s) in {report.folder}:\n{listing}")
    return report


def _read_ids(file: str, column: str) -> list[str]:
    """Identifiers to look for: a column of a .csv or .parquet file, else one per line of a text file."""
    path = Path(file)
    if not path.is_file():
        raise UserError(f"--person-ids {file}: no such file")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path, columns=[column])[column].astype(str).tolist()
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, usecols=[column], dtype=str)[column].tolist()
    except (KeyError, ValueError) as missing:
        raise UserError(f"--person-ids {file}: no column {column!r} (set it with --id-column): {missing}") from None
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The checker's command-line arguments (`outcomes check-outputs`, `python -m outcomes.disclosure`)."""
    parser.add_argument("folder", metavar="DIR", help="the output folder to check (read recursively)")
    parser.add_argument("--person-ids", metavar="FILE",
                        help="file of identifiers: .csv/.parquet (see --id-column) or one per line")
    parser.add_argument("--id-column", default="Person_ID", help="the identifiers' column in a .csv/.parquet file")
    parser.add_argument("--redact-at-or-below", type=int, default=REDACT_AT_OR_BELOW,
                        help=f"the largest count that must be redacted (default {REDACT_AT_OR_BELOW})")
    parser.add_argument("--rounding-base", type=int, default=ROUNDING_BASE,
                        help=f"other counts must be multiples of this (default {ROUNDING_BASE})")
    parser.add_argument("--no-rounding-check", action="store_true", help="do not report unrounded counts")


def run(args: argparse.Namespace) -> int:
    """Check `args.folder`, print each finding, and return 0 if clean, 1 on findings; a folder or
    identifiers file that is not there is a UserError."""
    if not Path(args.folder).is_dir():
        raise UserError(f"check-outputs: no such folder {args.folder}")
    ids = _read_ids(args.person_ids, args.id_column) if args.person_ids else []
    report = check_output_folder(args.folder, ids, args.redact_at_or_below, args.rounding_base,
                                 check_rounding=not args.no_rounding_check)
    for finding in report.findings:
        print(finding)
    if report.not_scanned:
        print(f"not scanned ({len(report.not_scanned)}): " + ", ".join(report.not_scanned), file=sys.stderr)
    print(f"{len(report.scanned)} file(s) scanned, {len(report.findings)} finding(s)", file=sys.stderr)
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m outcomes.disclosure DIR [--person-ids FILE]``, the same as ``outcomes check-outputs``:
    exit 0 when clean, 1 on findings, 2 on bad input (printed without a traceback)."""
    parser = argparse.ArgumentParser(prog="python -m outcomes.disclosure", description=main.__doc__.splitlines()[0])
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except UserError as error:
        print(f"python -m outcomes.disclosure: {error}", file=sys.stderr)
        return 2
