"""Synthetic control: a weighted mix of untreated units that tracks the treated unit before a
programme, whose path after it is the counterfactual (Abadie, Diamond & Hainmueller 2010).

One object per analysis, in lifelines' fitter style: :class:`SyntheticControl` takes a long frame
(one row per unit and period), ``fit()`` returns it with ``weights_``, ``synthetic_``, ``gap_``,
``pre_rmspe_``, ``post_rmspe_`` and ``path_``; ``placebo()`` (in space, ``p_value_``),
``placebo_in_time(start)``, ``conformal()``, ``effect(at, cumulative_from)`` and
``effect_summary()`` (shaped like the ITS result's) and ``plot()`` follow. Statistics on plain
pandas; bad input raises :class:`SynthInputError` (a ``UserError``: the CLI exits 2 without a
traceback).

Weights. Without covariates they are fitted on the pre-period outcome path. With ``covariates``
the predictors are their pre-period means and the outcome's, standardised, weighted by importances
V chosen to minimise the pre-period outcome MSPE (ADH's nested optimisation). The optimisers are
scipy's: NNLS (:func:`scipy.optimize.nnls`, Lawson-Hanson) for every weight problem, the
sum-to-one constraint as one heavily weighted extra row; Nelder-Mead for V
(:mod:`outcomes.synth._weights`).

Counts and rates: which form
----------------------------
* ``form="classic"`` (default): weights >= 0 summing to one, so the synthetic unit interpolates
  between donors. With ``population`` the outcome is a count and the weights are fitted on rates
  per ``per`` (100,000) people; the population is carried, so ``path_`` turns the synthetic rate
  back into an expected count for the treated population and the counts can be disclosure
  controlled. Right when the treated area's rate lies inside the range of the donors' rates (a
  convex mix can reproduce it), counts are large enough for monthly rates not to be mostly Poisson
  noise, and a rate difference is the quantity wanted. Areas of any size compare.
* ``form="count"`` (Bonander 2021, "A (flexible) synthetic control method for count data and other
  non-negative outcomes", Epidemiology 32(5): 653-660): weights >= 0 that need not sum to one,
  fitted on counts, so donors' counts are scaled to the treated area's size; the effect is a rate
  ratio of the observed count against the weighted count (``relative`` = ratio - 1), and the
  counterfactual can never be negative. Right when the treated area is larger or smaller than the
  donors or its rate sits at or beyond the edge of theirs (a convex mix of rates would be biased),
  and when results are reported as rate ratios. The freedom to scale is extrapolation: the penalty
  ``lam ||w - w_classic||^2`` (``penalty="cv"``: chosen, as Bonander does, by leaving each
  pre-period out in turn) pulls the weights towards the classic ones unless the data say otherwise.
  RMSPEs are then a proportion of each unit's mean pre-period count, so placebos of any size compare.

Inference. ``placebo()`` refits every donor as if treated; ``p_value_`` is the treated unit's
rank of post/pre RMSPE ratio over J + 1 (never 0), optionally leaving out placebos whose pre-period
fit is more than ``max_pre_rmspe`` times worse than the treated unit's. ``conformal()`` gives
intervals for each period's effect by Chernozhukov, Wuethrich & Zhu's (2021) conformal inference
(:mod:`outcomes.synth._conformal`); ``effect()`` uses them for the point and, for a span, the
interval of a constant per-period effect. In a simulation (200 panels: 20 donors from a two-factor
model, 40 pre-periods, 6 post, planted effect 3, noise sd 1) 90% intervals covered 90.2% of
period effects with independent noise and 87.9% with AR(1) noise (rho 0.5), median width 4.0
(3.3 would be the width knowing the weights); ``tests/test_synth.py`` repeats 60 of them.

Disclosure control. Where there are counts, :meth:`SyntheticControl.plot` draws every unit's
observed series from counts rounded to 5 with 1-7 left out (``outcomes.disclosure``), and
``path_`` and ``effect()`` carry ``observed_count`` so that ``redact_table``/``redact_results``
find the count a rate rests on.

Validation: Proposition 99 (``outcomes/validation_data/california_prop99.csv``, 38 donor
states, 1970-1988 before, matched on the outcome path alone). Weights Utah 0.394, Montana 0.232,
Nevada 0.205, Connecticut 0.109, New Hampshire 0.045, Colorado 0.015; pre-period RMSPE 1.656 packs;
gap in 2000 -26.6 packs (95% conformal interval -44.0 to -16.8), 39% below the synthetic
California (29% to 51%). These match an independent constrained least squares (scipy SLSQP,
written in the test) to 1e-4 in every weight. The placebo p-value is 3/39 = 0.077 (California's
ratio ranks third; ADH 2010, matching on covariates as well, ranked it first, 1/39). Speed
(``benchmarks/synth.py``, 40 donors x 120 months, on a shared 2-core machine): fit plus all 40
placebos 35-170 ms (26-126 x one scipy NNLS solve per fit, most of it laying out the long frame);
conformal intervals for 60 post months 0.3-1.1 s.

Example (runs as is)::

    import pandas as pd
    from outcomes.resources import validation_data_dir
    from outcomes.synth import SyntheticControl

    wide = pd.read_csv(validation_data_dir() / "california_prop99.csv")
    long = wide.melt(id_vars="Year", var_name="state", value_name="cigsale")
    sc = SyntheticControl(long, unit="state", time="Year", outcome="cigsale", treated="California",
                          start=1989).fit()
    print(sc.weights_[sc.weights_ > 0.01])
    sc.placebo(max_pre_rmspe=5)
    print(sc.p_value_, sc.effect(at=2000, cumulative_from=1989))
    print(sc.effect_summary("cigarette sales per head", at=2000))
    axes = sc.plot()
"""

from ._control import CONFORMAL_METHOD, FORMS, SyntheticControl
from ._errors import SynthInputError, SynthNotEstimable

__all__ = ["SyntheticControl", "SynthInputError", "SynthNotEstimable", "CONFORMAL_METHOD", "FORMS"]
