"""Errors a user can act on. The CLI prints these without a traceback and exits 2."""


class UserError(Exception):
    """Input the user must fix: an invalid extract, a bad parameter, a missing file."""
