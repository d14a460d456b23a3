"""Errors raised by the interrupted time series module."""

from outcomes.errors import NotEstimable


class ITSInputError(ValueError):
    """Bad input to an interrupted time series analysis (data, dates or options)."""


class ITSNotEstimable(ITSInputError, NotEstimable):
    """Valid data the model cannot be estimated on: an all-zero stretch, no control unit, too few
    points, a fit that does not converge. Still an ITSInputError (code catching that keeps working);
    a notebook's `run.estimate` records it as "not estimable: <reason>"."""

    def __init__(self, reason: str):
        NotEstimable.__init__(self, reason)
