"""The programme under evaluation and what the notebooks report about it: `core` (windows around
go-live, before/after totals, a measure's interrupted time series, headlines), `published_figures`
(figures the programme published, reproduced), `costs` (bed days priced), `breakdowns` (equity
breakdowns before and after) and `methods_validation` (the ITS against published analyses).

The names of `core` are importable from `outcomes.programme` itself.
"""

from outcomes.programme.core import *  # noqa: F401,F403
from outcomes.programme.core import __all__  # noqa: F401
