"""Errors raised by the synthetic control module."""

from outcomes.errors import UserError


class SynthInputError(UserError, ValueError):
    """Bad input to a synthetic control analysis (data, units, dates or options): the CLI prints it
    without a traceback and exits 2."""
