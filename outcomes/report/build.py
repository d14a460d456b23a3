"""`build_report`: run a quarter's notebooks and publish the report only if all is well.

Order of events: parameters and notebooks are checked, the extract is opened and validated (an
invalid one stops everything: `ExtractError`, exit 2), the quarter's lock is taken, notebooks run
in a fresh build folder beside the target and are rendered as they finish, results are gathered,
the index and manifest written; then, only if every notebook succeeded, every page is checked for
remote loads and the whole folder for disclosure (small or unrounded counts, the extract's
Person_IDs) before the build is swapped in. Any failure leaves the last good report untouched and
the build under `<quarter>.failed/`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from outcomes import resources, workspace
from outcomes.errors import UserError
from outcomes.report import index as index_page
from outcomes.report.manifest import build_manifest, git_state, sha256_file
from outcomes.report.parameters import Quarter, declared_parameters, default_parameters, load_overrides, parse_quarter
from outcomes.report.publish import keep_failed, new_build_dir, quarter_lock, remove_stale, swap_in
from outcomes.report.render import external_references, prepare_rendering, render_notebook
from outcomes.report.execution.schedule import expected_seconds, longest_first, record_seconds
from outcomes.report.execution.pool import NotebookPool
from outcomes.report.execution.runner import KERNEL_NAME, NotebookJob, NotebookRun, Progress, available_cores
from outcomes.measures.coverage import data_quality
from outcomes.measures.run_cache import run_measure_cache
from outcomes.reference import default_reference_extract
from outcomes.results import SIDECAR_SUFFIX, not_estimable_sentences, read_sidecar
from outcomes.source import SourceSpec, open_source
from outcomes.source.contract.dictionary import ENV_DICTIONARY, dictionary_dir
from outcomes.source.share import share_with_notebooks

__all__ = ["REPORT_TITLE", "ReportOutcome", "build_report", "find_notebooks"]

REPORT_TITLE = "CAMHS Tier 4 provider collaborative: outcomes report"
#: the report folder's layout
NOTEBOOKS, OUTPUTS = "notebooks", "outputs"
KEY_FIGURE_TAG = "key-figure"


@dataclass
class ReportOutcome:
    """What a run produced; `ok` means published."""

    ok: bool
    label: str
    folder: Path  #: the published report, or the kept failed build
    runs: list[NotebookRun]
    problems: list[str] = field(default_factory=list)  #: disclosure / offline findings, described
    seconds: float = 0.0
    partial: bool = False

    @property
    def failed_runs(self) -> list[NotebookRun]:
        return [run for run in self.runs if not run.ok]


def find_notebooks(folder: Path, only: list[str] | None = None) -> list[Path]:
    """The notebooks to run, by name: every `*.ipynb` in `folder`, or those `only` names
    (a name is a file stem, or a unique prefix of one such as `03`)."""
    if not folder.is_dir():
        raise UserError(f"--notebooks {folder}: no such folder")
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise UserError(f"no notebooks (*.ipynb) in {folder}")
    if not only:
        return found
    stems = {p.stem: p for p in found}
    chosen: list[Path] = []
    for name in only:
        name = Path(name).stem if name.endswith(".ipynb") else name
        matches = [stems[name]] if name in stems else [p for s, p in stems.items() if s.startswith(name)]
        if len(matches) != 1:
            what = "matches several notebooks" if matches else "is not a notebook"
            raise UserError(f"--only {name!r} {what} in {folder}; notebooks: {', '.join(stems)}")
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return sorted(chosen)


# ----------------------------------------------------------------------------- gathering results
def gather_results(build: Path, names: list[str]) -> dict[str, dict[str, dict]]:
    """Every notebook's sidecar, keyed by notebook; file entries made relative to the report."""
    results: dict[str, dict[str, dict]] = {}
    for name in names:
        entries = read_sidecar(build / OUTPUTS / name / f"{name}{SIDECAR_SUFFIX}")
        for entry in entries.values():
            if isinstance(entry, dict) and entry.get("kind") in ("figure", "table") and entry.get("file"):
                entry["file"] = f"{OUTPUTS}/{name}/{entry['file']}"
        results[name] = entries
    return results


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")


def key_figures(build: Path, results: dict[str, dict[str, dict]], titles: dict[str, str],
                section: str | None = None) -> list[index_page.KeyFigure]:
    """Figures recorded with key=True, then PNG outputs of cells tagged `key-figure`; with
    `section="methods"`, the figures recorded with key="methods" instead (methods validation)."""
    import nbformat

    figures = []
    for name, entries in results.items():
        href = f"{NOTEBOOKS}/{name}.html"
        for entry in entries.values():
            if entry.get("kind") == "figure" and entry.get("key") and (entry["key"] == section or
                                                                        (section is None and entry["key"] is True)):
                png = build / entry["file"]
                if png.is_file():
                    caption = entry.get("caption") or titles.get(name, name)
                    figures.append(index_page.KeyFigure(index_page.png_data_uri(png), caption,
                                                        entry.get("alt") or caption, titles.get(name, name), href))
        executed = build / NOTEBOOKS / f"{name}.ipynb"
        if section is not None or not executed.is_file():
            continue
        nb = nbformat.read(executed, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code" or KEY_FIGURE_TAG not in cell.metadata.get("tags", []):
                continue
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "image/png" in data:
                    caption = cell.metadata.get("caption") or ""
                    uri = "data:image/png;base64," + "".join(str(data["image/png"]).split())
                    figures.append(index_page.KeyFigure(uri, caption, caption or f"figure from {titles.get(name, name)}",
                                                        titles.get(name, name), href))
    return figures


# ----------------------------------------------------------------------------- checks before publishing
def _describe_finding(finding) -> str:
    if getattr(finding, "kind", None) == "person_id":  # never echo an identifier to a terminal or log
        return f"{finding.path}: a Person_ID from the extract, at {finding.where}"
    return str(finding)


def disclosure_problems(folder: Path, person_ids, checker=None) -> list[str]:
    """Findings of outcomes.disclosure's checker over the whole folder, described (`checker`, a
    `FolderChecker` of `folder` that has already checked some files, checks only the rest);
    `person_ids` a collection or a lookup (`Extract.person_ids_among`)."""
    from outcomes.disclosure import FolderChecker

    checked = (checker or FolderChecker(folder, person_ids=person_ids)).finish()
    return [_describe_finding(f) for f in checked.findings]


def offline_problems(folder: Path) -> list[str]:
    """Every page's loads from other hosts (scripts, styles, fonts, images)."""
    problems = []
    for page in sorted(folder.rglob("*.html")):
        for reference in external_references(page.read_text(encoding="utf-8", errors="replace")):
            problems.append(f"{page.relative_to(folder).as_posix()}: loads {reference} from another host")
    return problems


# ----------------------------------------------------------------------------- the index page
def _caveats(extract, parameters: dict, partial_names: list[str] | None) -> list[str]:
    caveats = []
    source = str(extract.metadata.get("source", ""))
    if "synthetic" in source.lower():
        caveats.append(
            "Synthetic data: this report was run on the synthetic reference extract. Its figures show "
            "how the report works and say nothing about real patients or services."
        )
    if partial_names:
        caveats.append(f"Partial report: only {', '.join(partial_names)} were run.")
    caveats.append(
        f"Changes are estimated against the trend before go-live ({parameters['go_live']}), leaving out "
        f"a transition of {parameters['transition_months']} months; they are associations, adjusted for "
        "trend and season, not proof that the programme caused them."
    )
    from outcomes.disclosure.summary import SUMMARY_HTML

    caveats.append(
        "Statistical disclosure control: counts of 1 to 7 are suppressed, other counts are rounded to the "
        "nearest 5, and rates built on a suppressed count are suppressed with it (stricter than NHS England's "
        "MHSDS rule of suppressing counts under 5; OpenSAFELY's rule). Tables published with their true totals "
        "suppress further cells so that none can be recovered by subtraction; model rows of groups with fewer "
        f"than 8 people or events are withheld. Every file is listed, with its smallest count and what was "
        f"suppressed and why, in the output-checking summary ({SUMMARY_HTML})."
    )
    return caveats


def _data_line(extract, quality: list[dict]) -> str:
    """One line on the data: where it comes from, the date it covers to, and its quality."""
    source = str(extract.metadata.get("source") or "an extract")
    errors = sum(1 for q in quality if str(q.get("severity", "")).lower() == "error")
    warnings = len(quality) - errors
    found = ("it passed every check of the data dictionary" if not quality else
             f"{warnings} data-quality warning{'s' if warnings != 1 else ''} (see Data quality), none stopping the report")
    return f"Data: {source}, covering to {extract.end_date.strftime('%-d %B %Y')}; {found}."


def previous_quarter_results(reports_dir: Path, quarter: Quarter) -> tuple[str | None, dict | None]:
    """The previous quarter's label and published results.json, when its report is in `reports_dir`."""
    previous = Quarter(quarter.year - 1, 4) if quarter.number == 1 else Quarter(quarter.year, quarter.number - 1)
    path = reports_dir / previous.label / "results.json"
    if not path.is_file():
        return None, None
    try:
        return previous.label, json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None


def _quality_rows(extract) -> list[dict]:
    from outcomes.disclosure import format_count

    frame = data_quality(extract)
    rows = []
    for record in frame.to_dict("records"):
        shown = format_count(record["rows"]) if record.get("rows") else "\u2013"
        record["rows"] = f"{int(shown):,}" if shown.isdigit() else shown
        rows.append(record)
    return rows


def _provenance(extract, parameters: dict, kernel: str, jobs: int, seconds: float, generated: dt.datetime,
                root: Path | None) -> list[tuple[str, str]]:
    from outcomes import __version__

    git = git_state(root)
    if root is None:
        commit = "installed package (not a git checkout)"
    else:
        commit = "not a git repository" if not git["commit"] else git["commit"][:12] + (" (with uncommitted changes)" if git["dirty"] else "")
    lock = sha256_file(root / "requirements.lock") if root else None
    footprint = parameters["footprint"]
    return [
        ("Package", f"outcomes {__version__}"),
        ("Code", commit),
        ("Requirements lock", f"sha256 {lock}" if lock else "requirements.lock not found"),
        ("Extract", str(extract.source)),
        ("Extract covers to", extract.end_date.isoformat()),
        ("Data source", str(extract.metadata.get("source", "not stated in extract.yaml"))),
        ("Go-live", f"{parameters['go_live']} (transition {parameters['transition_months']} months)"),
        ("Footprint", f"{len(footprint)} local authorities: {', '.join(footprint)}"),
        ("Providers", ", ".join(parameters["providers"])),
        ("Targets", _targets_line(parameters.get("targets") or {})),
        ("Kernel", kernel),
        ("Python", sys.version.split()[0]),
        ("Generated", generated.strftime("%Y-%m-%d %H:%M:%S")),
        ("Run time", f"{seconds:.1f} s with {jobs} parallel job{'s' if jobs != 1 else ''}"),
    ]


def _targets_line(targets: dict[str, float | None]) -> str:
    """The SPC targets a --params file set, for the provenance table."""
    standards = "NHS standards in outcomes/measures/monitoring.yaml"
    if not targets:
        return f"none set by --params; {standards}"
    shown = ", ".join(f"{name} {'none' if value is None else format(value, 'g')}" for name, value in targets.items())
    return f"set by --params: {shown}; otherwise {standards}"


def _injected(notebook: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters that `notebook` declares in its parameters cell (no others are injected)."""
    return {name: parameters[name] for name in declared_parameters(notebook)}


# ----------------------------------------------------------------------------- one run
@dataclass
class _Run:
    """One report run's state, from its notebooks to the folder it publishes."""

    quarter: Quarter
    parameters: dict[str, Any]
    names: list[str]
    partial: bool
    kernel_name: str
    notebooks_dir: Path
    started: float
    build: Path = Path()
    opened: Any = None
    common: dict[str, Any] = field(default_factory=dict)  #: the run's parameters but output_dir
    titles: dict[str, str] = field(default_factory=dict)
    reports_dir: Path = Path()  #: where published reports live (the previous quarter's, for comparison)
    checker: Any = None  #: outcomes.disclosure.FolderChecker of the build folder

    @property
    def label(self) -> str:
        return f"{self.quarter.label}.partial" if self.partial else self.quarter.label

    @property
    def title(self) -> str:
        return f"{REPORT_TITLE} {self.quarter.label}"

    def notebook_jobs(self, sources: list[Path], reference: str) -> list[NotebookJob]:
        """A job per notebook, with the parameters it declares (outcomes.report.parameters.CONTRACT)."""
        self.common = {
            "extract": reference,
            "period_end": self.quarter.end.isoformat(),
            "go_live": self.parameters["go_live"],
            "transition_months": self.parameters["transition_months"],
            "footprint": list(self.parameters["footprint"]),
            "providers": list(self.parameters["providers"]),
            "targets": dict(self.parameters.get("targets") or {}),
        }
        return [
            NotebookJob(name=source.stem, source=source, output=self.build / NOTEBOOKS / f"{source.stem}.ipynb",
                        output_dir=self.build / OUTPUTS / source.stem,
                        parameters=_injected(source, {**self.common, "output_dir": str(self.build / OUTPUTS / source.stem)}))
            for source in sources
        ]

    def render(self, job: NotebookJob, run: NotebookRun) -> None:
        """A finished notebook's page; then its files are checked for disclosure while others run."""
        if job.output.exists():
            self.titles[job.name] = render_notebook(
                job.output, job.output.with_suffix(".html"), report_title=self.title, index_href="../index.html",
                resource_path=self.notebooks_dir,
                kernelspec={"name": self.kernel_name, "display_name": f"Python ({self.kernel_name})", "language": "python"},
                published_path=f"{NOTEBOOKS}/{job.name}.ipynb",
            )
        if run.ok:
            self.checker.check([job.output, job.output.with_suffix(".html"), *job.output_dir.rglob("*")])

    def write_pages(self, status: str, banner: str | None, *, runs: list[NotebookRun], results: dict, kernel: str,
                    jobs: int, generated: dt.datetime) -> None:
        """index.html, the workbook of every table, manifest.json and the output-checking summary of the build folder."""
        from outcomes.disclosure.summary import write_output_check
        from outcomes.report import attention, downloads, messages

        seconds = time.perf_counter() - self.started
        build, opened, q = self.build, self.opened, self.quarter
        tables = downloads.table_files(results, self.titles, build)
        workbook = downloads.write_workbook(build, tables, self.title) if tables else None
        previous_label, previous = previous_quarter_results(self.reports_dir, q)
        quality = _quality_rows(opened)
        names = attention.code_names(opened.metadata)
        page = index_page.IndexPage(
            title=self.title, quarter=q.label, period=q.describe(), generated=generated,
            status="partial" if (self.partial and status == "published") else status,
            caveats=_caveats(opened, self.parameters, self.names if self.partial else None),
            headline=index_page.headline_rows(results, previous),
            messages=messages.key_messages(results, index_page.describe),
            data_line=_data_line(opened, quality),
            attention=attention.attention_items(results, attention.measure_titles(), names),
            dashboard=index_page.dashboard_rows(results, names),
            balancing=index_page.balancing_rows(results),
            figures=key_figures(build, results, self.titles),
            methods_figures=key_figures(build, results, self.titles, section="methods"),
            tables=tables,
            workbook=workbook.name if workbook else None,
            previous=previous_label,
            notebooks=[
                index_page.NotebookEntry(
                    name=run.name, title=self.titles.get(run.name, run.name),
                    html_href=f"{NOTEBOOKS}/{run.name}.html" if (build / NOTEBOOKS / f"{run.name}.html").exists() else None,
                    ipynb_href=f"{NOTEBOOKS}/{run.name}.ipynb" if (build / NOTEBOOKS / f"{run.name}.ipynb").exists() else None,
                    status=run.status, seconds=run.seconds, failure=run.failure.describe() if run.failure else None,
                    not_estimable=not_estimable_sentences(results.get(run.name, {})),
                )
                for run in runs
            ],
            quality=quality,
            provenance=_provenance(opened, self.parameters, kernel, jobs, seconds, generated, workspace.source_checkout()),
            files=sorted(opened.file_hashes().items()),
            banner=banner,
        )
        index_page.render_index(page, build / "index.html")
        manifest = build_manifest(
            root=workspace.source_checkout(), quarter=q.label, period_start=q.start.isoformat(),
            period_end=q.end.isoformat(), status=status, extract=opened, parameters=self.common,
            notebooks=[{"name": r.name, "title": self.titles.get(r.name, r.name), "status": r.status,
                        "seconds": round(r.seconds, 2), "failure": r.failure.describe() if r.failure else None}
                       for r in runs],
            kernel=kernel, jobs=jobs, seconds=seconds, generated=generated, only=self.names if self.partial else None,
        )
        write_json(build / "manifest.json", manifest)
        write_output_check(build, results)  # per file: kind, smallest count, rounding, suppressed and why

    def finish(self, runs: list[NotebookRun], *, kernel: str, jobs: int, reports_dir: Path,
               person_ids) -> ReportOutcome:
        """Write the pages; publish the build over the last good report only if every notebook
        succeeded and the folder passes the offline and disclosure checks; else keep it as failed."""
        results = gather_results(self.build, self.names)
        write_json(self.build / "results.json", results)
        pages = {"runs": runs, "results": results, "kernel": kernel, "jobs": jobs,
                 "generated": dt.datetime.now().replace(microsecond=0)}
        target, failed = reports_dir / self.label, reports_dir / f"{self.label}.failed"
        changed = self.opened.changed_files()
        if changed:  # the notebooks may have read another extract than the one validated
            self.write_pages("refused", f"Not published: {changed[0]} changed during the run.", **pages)
            keep_failed(self.build, failed)
            raise UserError(f"{changed[0]} changed during the report run (sha256 no longer the one validated): "
                            f"nothing published (the build is kept in {failed}); run again once the extract is complete")
        failures = [r for r in runs if not r.ok]
        if failures:
            self.write_pages("failed", f"Not published: {len(failures)} of {len(runs)} notebooks failed "
                                       f"({', '.join(r.name for r in failures)}).", **pages)
            keep_failed(self.build, failed)
            return ReportOutcome(False, self.label, failed, runs, seconds=time.perf_counter() - self.started,
                                 partial=self.partial)
        self.write_pages("published", f"Partial report: only {', '.join(self.names)}." if self.partial else None,
                         **pages)
        problems = offline_problems(self.build) + disclosure_problems(self.build, person_ids, self.checker)
        if problems:
            self.write_pages("refused", f"Not published: {len(problems)} disclosure or offline finding(s); "
                                        "see the terminal output.", **pages)
            keep_failed(self.build, failed)
            return ReportOutcome(False, self.label, failed, runs, problems, time.perf_counter() - self.started,
                                 self.partial)
        swap_in(self.build, target)
        if failed.exists():
            shutil.rmtree(failed)
        return ReportOutcome(True, self.label, target, runs, seconds=time.perf_counter() - self.started,
                             partial=self.partial)


def _writable(reports: Path) -> None:
    """UserError unless `reports` is (or can be made) a folder this process can write in."""
    existing = next((p for p in (reports, *reports.parents) if p.exists()), None)
    if reports.exists() and not reports.is_dir():
        raise UserError(f"--reports {reports}: is a file, not a folder")
    if existing is not None and not existing.is_dir():
        raise UserError(f"--reports {reports}: {existing} is a file, not a folder")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--reports {reports}: {existing} is not writable")


def _within_extract(q: Quarter, parameters: dict[str, Any], extract) -> None:
    """UserError, before any notebook runs, for a quarter outside the extract or a go-live whose
    transition ends after the quarter (there would be no months after it to compare)."""
    from outcomes.dates import add_months, as_date

    if q.end > extract.end_date:
        raise UserError(f"the extract ends on {extract.end_date.isoformat()}, before the end of {q.label} "
                        f"({q.end.isoformat()}): report an earlier quarter or use a later extract")
    if extract.start_date is not None and q.end < extract.start_date:
        raise UserError(f"{q.label} ends on {q.end.isoformat()}, before the extract starts "
                        f"({extract.start_date.isoformat()}): report a later quarter")
    months = parameters["transition_months"]
    if not isinstance(months, int) or isinstance(months, bool) or months < 0:
        raise UserError(f"transition_months {months!r}: give a whole number of months, 0 or more")
    go_live = as_date(parameters["go_live"])
    if months > 1200 or add_months(go_live, months) > q.end:
        raise UserError(f"transition_months {months}: the transition from go-live {go_live.isoformat()} would end "
                        f"after {q.label} ({q.end.isoformat()}), leaving no months after it to compare")


def _source(source: SourceSpec | str | Path | None) -> SourceSpec:
    """The source to open, as a spec: the one given, else the built-in reference extract; UserError
    for one the notebooks cannot reach or a folder that is not there."""
    spec = SourceSpec.of(source if source is not None else default_reference_extract())
    if spec.engine == "spark" and not spec.url:
        raise UserError("the notebooks run in kernels of their own, which cannot reach this process's Spark session: "
                        "report on Spark through Spark Connect (a url sc://host:15002 and a schema)")
    if spec.folder is not None and not spec.url:
        folder = spec.folder.resolve()
        if not folder.is_dir():
            raise UserError(f"{spec.folder}: no such extract folder (leave the source out for the built-in synthetic "
                            "reference extract, or write one with `outcomes reference --out DIR`)")
        spec = spec.with_(folder=folder)
    return spec


# ----------------------------------------------------------------------------- the whole run
def build_report(
    quarter: str,
    *,
    source: SourceSpec | str | Path | None = None,
    reports_dir: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
    params_file: str | Path | None = None,
    only: list[str] | None = None,
    jobs: int | None = None,
    wait: bool = False,
    kernel_name: str = KERNEL_NAME,
    reuse_kernels: bool = True,
    stream: TextIO | None = None,
    tty: bool | None = None,
) -> ReportOutcome:
    """Run the quarter's notebooks (default: those shipped in the package) and publish
    `<reports_dir>/<quarter>/` if every check passes.

    `source` is a `SourceSpec`, a folder or a warehouse URL (default: the built-in synthetic
    reference extract, built on first use; see `outcomes.reference.default_reference_extract`);
    `reports_dir` defaults to `./reports`. The source is validated once, here; the notebooks get it
    by a reference with no secret in it (`outcomes.source.share`).
    Each of the `jobs` parallel workers runs its notebooks in one kernel, reset between them;
    `reuse_kernels=False` starts a kernel per notebook (`outcomes.report.execution.pool`).
    Raises UserError (CLI exit 2) before anything runs for bad arguments, an invalid extract or a
    run of the same quarter already in progress; returns a ReportOutcome otherwise.
    """
    started = time.perf_counter()
    stream = stream or sys.stderr
    workspace.remove_dead_runs()  # temporary folders of runs killed before they could clean up
    q: Quarter = parse_quarter(quarter)
    parameters = {**default_parameters(), **load_overrides(params_file)}
    notebooks_dir = Path(notebooks_dir).resolve() if notebooks_dir else resources.notebooks_dir()
    reports_dir = Path(reports_dir).resolve() if reports_dir else workspace.reports_dir()
    _writable(reports_dir)
    sources = find_notebooks(notebooks_dir, only)
    if jobs is not None and jobs < 1:
        raise UserError(f"--jobs {jobs}: give 1 or more")
    jobs = min(jobs or available_cores(), len(sources))
    spec = _source(source)
    run = _Run(q, parameters, [p.stem for p in sources], bool(only), kernel_name, notebooks_dir, started,
               reports_dir=reports_dir)

    # a second run refuses at the lock, at once; then the workers start their kernels, which import
    # what notebooks need while the extract is opened and validated
    with (quarter_lock(reports_dir, q.label, wait=wait, stream=stream),
          NotebookPool(jobs=jobs, cwd=notebooks_dir, kernel_name=kernel_name, reuse_kernels=reuse_kernels) as pool):
        # ExtractError (a UserError) stops here, before any notebook; a warehouse is validated
        # there by pushed-down queries, once for the whole run
        run.opened = open_source(spec)
        _within_extract(q, parameters, run.opened)
        run.opened.file_hashes()  # as validated: checked again before publishing, recorded in the manifest
        person_ids = run.opened.person_ids_among  # the engine says which printed tokens are identifiers
        remove_stale(reports_dir, q.label)
        run.build = new_build_dir(reports_dir, q.label)
        try:
            with ExitStack() as sharing:  # the run's private source reference lives until the run ends
                reference, kernel_env = sharing.enter_context(share_with_notebooks(run.opened, spec))
                kernel_env = {**kernel_env, **sharing.enter_context(run_measure_cache())}  # measures computed once a run
                if os.environ.get(ENV_DICTIONARY):  # made absolute as the run read it: kernels start elsewhere
                    kernel_env[ENV_DICTIONARY] = str(dictionary_dir())
                print(f"outcomes report {run.label}: {len(sources)} notebook(s), {jobs} at a time, "
                      f"extract {run.opened.source}", file=stream, flush=True)
                job_list = run.notebook_jobs(sources, reference)
                from outcomes.disclosure import FolderChecker  # (pandas: imported once the kernels are starting)

                run.checker = FolderChecker(run.build, person_ids=person_ids)
                prepare_rendering()  # nbconvert imported while the kernels import what notebooks need
                with Progress(run.names, stream=stream, tty=tty) as progress:
                    runs = pool.run(job_list, env=kernel_env, progress=progress, after=run.render,
                                    start_order=longest_first(run.names, expected_seconds()))
                record_seconds({r.name: r.seconds for r in runs if r.ok})  # orders the next run
                kernel = pool.kernel_description + (", one per job, reset between notebooks" if reuse_kernels
                                                    else ", one per notebook")
                return run.finish(runs, kernel=kernel, jobs=jobs, reports_dir=reports_dir, person_ids=person_ids)
        except BaseException:
            if run.build.exists():
                shutil.rmtree(run.build, ignore_errors=True)
            raise
