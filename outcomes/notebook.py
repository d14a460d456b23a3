"""The session a notebook starts: one frozen value holding what the notebook analyses and where it
writes.

    run = notebook.start("01_bed_days", globals())

after the notebook's tagged `parameters` cell (papermill's signature, the values `outcomes report`
injects; every None there takes the runner's default: `outcomes.report.parameters`). The run has

* `.params`: the resolved parameters (`NotebookParameters`);
* `.extract`: the extract, opened and validated once and cut to `period_end` (`Extract.until`:
  nothing after the period is seen; measures then end at its last complete month), so
  `period_end` has one meaning in every notebook; None when the notebook declares no `extract`;
* `.measures`: the catalogue of measures for the footprint and providers (`outcomes.measures`),
  with any targets the report's `--params` sets (`targets`),
  sharing their frames with the report run's other notebooks when there is a run;
* `.programme`: the `Programme` (go-live, transition) whose headlines record into this run;
  None when the notebook declares no `go_live`;
* `.record`, `.record_table`, `.record_figure`: `outcomes.results`' calls, bound to the
  notebook's output folder and name;
* `.show(table)`: a table as a reader reads it (`outcomes.report.tables`), every table a page shows;
* `.paragraph(write, *names)`: the results paragraph under an analysis, written from the recorded
  results by `outcomes.report.paragraphs`;
* `.estimate(name, what, fit, ...)`: `fit(...)`, or None when the data cannot support it
  (`outcomes.errors.NotEstimable`: too few events, no comparison group, every count 0), the reason
  then recorded and shown in the report as "<what>: not estimable: <reason>"; the notebook goes
  on with its other analyses (a small collaborative still gets its report).

A report run's context reaches the notebook here and only here: its parameters through papermill,
and its measure cache through the variable `outcomes.report` sets in the kernels
(`outcomes.measures.run_cache.RUN_MEASURES`); nothing below this module reads either.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any

from outcomes import results
from outcomes.errors import NotEstimable
from outcomes.measures import catalogue
from outcomes.measures.catalogue import with_targets
from outcomes.measures.run_cache import RUN_MEASURES
from outcomes.programme import DEFAULT_TRANSITION_MONTHS, Programme
from outcomes.report.parameters import NotebookParameters, notebook_parameters
from outcomes.source import open_source
from outcomes.workspace import scratch_dir

__all__ = ["Run", "start"]


@dataclass(frozen=True)
class Run:
    """A notebook's session (see the module docstring)."""

    notebook: str
    params: NotebookParameters
    output_dir: Path
    extract: Any = field(default=None, repr=False)
    measures: Mapping[str, Any] | None = field(default=None, repr=False)
    programme: Programme | None = None
    #: the report run's folder of shared measure frames; None outside a run
    measure_cache: Path | None = field(default=None, repr=False)

    def record(self, name: str, value: Any, **options: Any) -> None:
        """`outcomes.results.record` into this notebook's results."""
        results.record(name, value, output_dir=self.output_dir, notebook=self.notebook, **options)

    def record_table(self, name: str, frame, counts=None, **options: Any):
        """`outcomes.results.record_table` into this notebook's folder; returns the controlled table."""
        return results.record_table(name, frame, counts, output_dir=self.output_dir, notebook=self.notebook, **options)

    def record_figure(self, name: str, fig=None, **options: Any) -> Path:
        """`outcomes.results.record_figure` into this notebook's folder; returns the PNG's path."""
        return results.record_figure(name, fig, output_dir=self.output_dir, notebook=self.notebook, **options)

    def show(self, frame, caption: str | None = None, **options: Any) -> None:
        """Show a table as a reader reads it (`outcomes.report.tables.reader_table`: headers in words
        with units, estimates with their CI, p-values as "<0.001", yes/no, thousands separators);
        `options`: `columns` (those shown; the recorded CSV keeps all), `titles`, `turn`."""
        from IPython.display import display

        from outcomes.report.tables import reader_table

        display(reader_table(frame, caption=caption, **options))

    def recorded(self, name: str) -> dict:
        """A result as it was recorded: after disclosure control, as results.json holds it."""
        return results.read_sidecar(results.sidecar_path(self.output_dir, self.notebook))[name]

    def said(self, name: str):
        """A recorded result as the page shows it: its sentence, and the counts it rests on as
        recorded (rounded or suppressed), never the unrounded numbers in memory (Markdown)."""
        from IPython.display import Markdown

        entry = self.recorded(name)
        text = entry.get("sentence") or f"{entry.get('label') or name}: {entry.get('value')}"
        counts = entry.get("counts") or {}
        if counts:
            shown = "; ".join(f"{key.removesuffix('_n').replace('_', ' ')} {value:,}" if isinstance(value, int | float)
                              else f"{key.removesuffix('_n').replace('_', ' ')} {value}" for key, value in counts.items())
            text += f" Counts (rounded to 5, 1-7 suppressed): {shown}."
        return Markdown(text)


    def paragraph(self, write: Callable[..., str], *names: str, **options: Any):
        """The results paragraph under an analysis (Markdown): `write` (`outcomes.report.paragraphs`:
        `estimate`, `survival`, `costs`...) given the results `names` as recorded (after disclosure
        control; None for one not recorded, e.g. not estimable)."""
        from IPython.display import Markdown

        recorded = results.read_sidecar(results.sidecar_path(self.output_dir, self.notebook))
        return Markdown(write(*(recorded.get(name) for name in names), **options))

    def source_changes(self, *names: str) -> dict:
        """The changes of data source inside the series of measures `names` on this extract
        ({first day of the month: what changed}, `outcomes.measures.sources`), each recorded once
        as result `source_change_<yyyy_mm>` with its sentence (in the report and results.json) and
        shown as prose; empty when the series has one source."""
        from outcomes.measures.sources import change_sentences, changes_of

        found: dict = {}
        for name in names:
            found.update(changes_of(self.measures[name], self.extract))
        for (month, _), sentence in zip(sorted(found.items()), change_sentences([self.measures[n] for n in names],
                                                                                 self.extract)):
            self.record(f"source_change_{month:%Y_%m}", f"{month:%B %Y}", kind="estimate", sentence=sentence,
                        definition="A change of data source inside a measure's series (declared in the catalogue)")
            _say(sentence)
        return found

    def population_note(self, *names: str) -> str | None:
        """The sentence saying the population denominator of measures `names` is carried forward past
        the last published estimate (`outcomes.measures.population.carried_note`), recorded once as
        result `population_carried_forward` (in the report and results.json) and shown as prose; None when
        every month has its own year's estimate."""
        notes = {note for name in names if (say := getattr(self.measures[name].denominator, "note", None))
                 and (note := say(self.extract, self.measures[name].period(self.extract)))}
        if not notes:
            return None
        sentence = "Rates: " + "; ".join(sorted(notes)) + "."
        self.record("population_carried_forward", "; ".join(sorted(notes)), kind="estimate", sentence=sentence,
                    definition="Months after the last published ONS mid-year estimate use it, carried forward")
        _say(sentence)
        return sentence

    def estimate(self, name: str, what: str, fit: Callable[..., Any], /, *args: Any, headline: bool = False,
                 **kwargs: Any) -> Any:
        """`fit(*args, **kwargs)`, or None when it raises `NotEstimable`: the reason is then recorded
        as result `name` ("<what>: not estimable: <reason>", `results.record_not_estimable`; in the
        headline table when `headline`) and shown as prose. Any other error still fails the notebook."""
        try:
            return fit(*args, **kwargs)
        except NotEstimable as error:
            self.not_estimable(name, what, error.reason, headline=headline)
            return None

    def not_estimable(self, name: str, what: str, reason: str, *, headline: bool = False) -> None:
        """Record and say (as prose on the page) that `what` is not estimable, and why
        (`results.record_not_estimable`)."""
        _say(results.record_not_estimable(name, reason, what=what, headline=headline,
                                          output_dir=self.output_dir, notebook=self.notebook) + ".")


def _say(sentence: str) -> None:
    """Show a sentence on the page as prose (Markdown), not as monospace printed output."""
    from IPython.display import Markdown, display

    display(Markdown(sentence))


def _measure_cache() -> Path | None:
    """The report run's measure cache folder, when the notebook runs in one."""
    folder = os.environ.get(RUN_MEASURES)
    return Path(folder) if folder and Path(folder).is_dir() else None


def _codes(codes: tuple[str, ...] | None) -> list[str] | None:
    return None if codes is None else list(codes)


def _open_extract(params: NotebookParameters):
    """The extract the notebook analyses, cut to the period (the one place a notebook opens it)."""
    return open_source(params.extract).until(params.period_end)


def start(notebook: str, namespace: dict[str, Any]) -> Run:
    """Start notebook `notebook`'s session from its namespace (`globals()`): resolve the parameters
    its `parameters` cell declares (`notebook_parameters`, which also writes them back by name),
    open the extract, declare the measures and the programme. Bad parameters or an extract that
    breaks the contract raise `UserError` / `ExtractError` with a message naming them."""
    params = notebook_parameters(notebook, namespace)
    if params.output_dir is not None:
        output_dir = Path(params.output_dir)
    else:  # a notebook declaring no output_dir still writes somewhere of its own
        output_dir = Path(scratch_dir(notebook))
    cache = _measure_cache()
    extract = measures = programme = None
    if params.extract is not None:
        extract = _open_extract(params)
        declared = with_targets(catalogue(_codes(params.footprint), _codes(params.providers)), params.targets)
        measures = MappingProxyType({name: measure.cached_in(cache) for name, measure in declared.items()})
    if params.go_live is not None:
        transition = DEFAULT_TRANSITION_MONTHS if params.transition_months is None else params.transition_months
        programme = Programme(params.go_live, transition,
                              record=partial(results.record, output_dir=output_dir, notebook=notebook))
    return Run(notebook, params, output_dir, extract, measures, programme, cache)
