"""Errors a user can act on. The CLI prints these without a traceback and exits 2."""


class UserError(Exception):
    """Input the user must fix: an invalid extract, a bad parameter, a missing file."""


class NotEstimable(Exception):
    """An analysis the data cannot support: too few events, no comparison group, every count 0.

    Not a fault of the input, so not a UserError: a small collaborative's extract is valid and
    still too small for some analyses. `reason` says why in words a reader of the report follows
    ("3 PICU stays after go-live; at least 10 are needed"); a notebook records it through
    `run.estimate` (`outcomes.notebook`) and the report shows "not estimable: <reason>".
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = str(reason)
