"""Making Data Count statistical process control: XmR charts of monthly measures.

`XmRChart(improvement, rebase, fix_after_n_points, target).fit(frame)` computes the mean, the
process limits and every point's type with the rules as NHSRplotthedots (R) implements them
(`outcomes.spc.rules`); `.plot()` draws it in the NHS style with the variation and assurance
icons; `outcomes.spc.measures` charts every declared measure with disclosure control.

Why written here and not taken from a package: the Python packages that claim the method were
read (November 2026) and none matches NHSRplotthedots' rules exactly:

* `abspc` 1.1.0 flags a shift at 8 points and a trend at 6 (not 7 and 7) and does not screen
  moving ranges;
* `clinical-qikit` 0.5.0 uses Anhoej's run-chart rules (run length from the series length,
  crossings) and screens moving ranges at or below D4 x the mean (NHSRplotthedots keeps only those
  strictly below), falling back to unscreened limits; it also needs plotly;
* `controlchartspy` 0.1.3 runs a minified JavaScript engine (the Power BI visual) through
  quickjs and is GPL-3.0, which this MIT project cannot ship.

The calculation is small (a mean, a moving range and four rules), so it is written against the R
source, and tested against its documented examples and against an independent implementation.
"""

from outcomes.spc.chart import ASSURANCE_TYPES, IMPROVEMENT_DIRECTIONS, MIN_POINTS, POINT_TYPES, XmRChart, variation_icon

__all__ = ["XmRChart", "IMPROVEMENT_DIRECTIONS", "POINT_TYPES", "ASSURANCE_TYPES", "MIN_POINTS", "variation_icon"]
