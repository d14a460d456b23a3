"""Errors raised by the interrupted time series module."""


class ITSInputError(ValueError):
    """Bad input to an interrupted time series analysis (data, dates or options)."""
