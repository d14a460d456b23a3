"""Errors raised by the synthetic control module."""

from outcomes.errors import NotEstimable, UserError


class SynthInputError(UserError, ValueError):
    """Bad input to a synthetic control analysis (data, units, dates or options): the CLI prints it
    without a traceback and exits 2."""


class SynthNotEstimable(SynthInputError, NotEstimable):
    """Valid data a synthetic control cannot be built from (fewer than 2 donor areas with every month
    published): a notebook's `run.estimate` records it as "not estimable: <reason>"."""

    def __init__(self, reason: str):
        NotEstimable.__init__(self, reason)
