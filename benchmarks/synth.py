"""Speed of outcomes.synth: a fit plus the full placebo-in-space set over 40 donors and 120 months
(60 before the start), against a baseline measured in the same run: one bare scipy NNLS solve of
the same size (the classic form's problem) times the number of fits (41). Medians of repeats.

Target: fit + placebos under 1 s. Also timed: conformal intervals for the 60 post months, and the
count form (with its hold-out penalty choice).

    .venv/bin/python benchmarks/synth.py
"""

import numpy as np
import pandas as pd
from _timing import median_ms
from scipy.optimize import nnls

from outcomes.synth import SyntheticControl


def panel(J: int = 40, T: int = 120, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    month = pd.date_range("2014-01-01", periods=T, freq="MS")
    t = np.arange(T)
    pop = rng.uniform(50_000, 400_000, J + 1)
    rate = rng.uniform(20, 60, J + 1) / 1e5 * np.exp(np.outer(t, rng.uniform(-0.004, 0.006, J + 1)))
    counts = rng.poisson(rate * pop)
    return pd.DataFrame({"area": np.repeat([f"A{j:02d}" for j in range(J + 1)], T), "month": np.tile(month, J + 1),
                         "n": counts.T.ravel(), "population": np.repeat(pop, T)})


def main() -> None:
    df = panel()
    kw = dict(unit="area", time="month", outcome="n", population="population", treated="A00", start="2019-01")
    sc = SyntheticControl(df, **kw)
    P = sc.panel
    X, y = P.values[P.pre][:, 1:], P.values[P.pre, 0]
    big = 1e4 * np.sqrt((X**2).sum(axis=0)).max() / np.sqrt(len(y))
    A, b = np.vstack([X, np.full(X.shape[1], big)]), np.r_[y, big]
    one = median_ms(lambda: nnls(A, b), 200)
    fits = len(P.units)
    base = one * fits
    print(f"baseline: one scipy NNLS solve ({A.shape[0]} x {A.shape[1]}) {one:.3f} ms x {fits} fits = {base:.2f} ms")
    rows = [
        ("fit + placebo in space, 40 donors x 120 months (classic, rates)",
         median_ms(lambda: SyntheticControl(df, **kw).fit().placebo(), 10)),
        ("fit alone (incl. checks and layout of the long frame)", median_ms(lambda: SyntheticControl(df, **kw).fit(), 10)),
        ("conformal intervals, 60 post months (after fit)", median_ms(lambda: SyntheticControl(df, **kw).fit().conformal(), 3)),
        ("fit + placebo in space, count form (hold-out penalty)",
         median_ms(lambda: SyntheticControl(df, **kw, form="count").fit().placebo(), 3)),
    ]
    for name, ms in rows:
        print(f"{name}: {ms:.1f} ms ({ms / base:.1f} x baseline)")
    total = rows[0][1]
    print(f"target fit + placebos < 1000 ms: {'met' if total < 1000 else 'MISSED'} ({total:.0f} ms)")


if __name__ == "__main__":
    main()
