"""Taking the report away: the list of every table's CSV for the index, and one workbook
(`tables.xlsx`, openpyxl) holding every table, one sheet each, after a contents sheet.

Both read the tables as published (`outcomes.results.record_table` has already controlled them for
disclosure: the workbook is a copy of the CSVs, so it holds nothing they do not).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TableFile", "table_files", "write_workbook", "WORKBOOK", "sheet_names"]

#: the workbook's name in the report folder
WORKBOOK = "tables.xlsx"
_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass
class TableFile:
    notebook: str  #: the notebook's title
    name: str  #: the table's name (the CSV's stem)
    caption: str
    href: str  #: the CSV, relative to the report folder
    sheet: str = ""  #: its sheet in the workbook


def sheet_names(names: list[str]) -> list[str]:
    """Excel sheet names for `names`: at most 31 characters, none of []:*?/\\, unique (", 2" added)."""
    shown: list[str] = []
    for name in names:
        base = _SHEET_CHARS.sub("-", name)[:31]
        candidate, n = base, 2
        while candidate.lower() in (s.lower() for s in shown):
            suffix = f" {n}"
            candidate, n = base[:31 - len(suffix)] + suffix, n + 1
        shown.append(candidate)
    return shown


def table_files(results: dict[str, dict[str, dict]], titles: dict[str, str], folder: Path | None = None) -> list[TableFile]:
    """Every table a notebook recorded, in notebook then recording order, with its sheet name; with
    the report's `folder`, also any CSV in a notebook's outputs that no entry names (a table whose
    entry a figure of the same name replaced)."""
    files = [TableFile(titles.get(notebook, notebook), name, entry.get("caption") or name.replace("_", " "), entry["file"])
             for notebook, entries in results.items() for name, entry in entries.items()
             if isinstance(entry, dict) and entry.get("kind") == "table" and entry.get("file")]
    if folder is not None:
        listed = {f.href for f in files}
        for notebook in results:
            for csv_file in sorted((folder / "outputs" / notebook).glob("*.csv")):
                href = f"outputs/{notebook}/{csv_file.name}"
                if href not in listed:
                    files.append(TableFile(titles.get(notebook, notebook), csv_file.stem, csv_file.stem.replace("_", " "), href))
        order = {notebook: i for i, notebook in enumerate(results)}
        files.sort(key=lambda f: order.get(f.href.split("/")[1], len(order)))  # (stable) by notebook
    for table, sheet in zip(files, sheet_names([f"{f.href.split('/')[-2][:2]} {f.name}" for f in files])):
        table.sheet = sheet
    return files


def _cell(text: str):
    """A CSV cell as a spreadsheet value: numbers as numbers, everything else as text."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def write_workbook(folder: Path, tables: list[TableFile], title: str) -> Path:
    """`folder/tables.xlsx`: a contents sheet (sheet, notebook, caption, CSV), then one sheet per
    table from its CSV in `folder`, header row bold and frozen, columns sized to their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    contents.append([title])
    contents["A1"].font = Font(bold=True, size=14)
    contents.append(["Every table of the report, one sheet each, as published (disclosure-controlled)."])
    contents.append([])
    contents.append(["Sheet", "Analysis", "Table", "CSV file"])
    for cell in contents[4]:
        cell.font = Font(bold=True)
    for table in tables:
        contents.append([table.sheet, table.notebook, table.caption, table.href])
        sheet = book.create_sheet(table.sheet)
        with open(folder / table.href, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle)):
                sheet.append(row if number == 0 else [_cell(value) if value != "" else None for value in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(sheet.iter_cols(max_row=min(sheet.max_row, 200)), start=1):
            width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    for letter, width in zip("ABCD", (34, 40, 80, 60)):
        contents.column_dimensions[letter].width = width
    path = folder / WORKBOOK
    book.save(path)
    return path
