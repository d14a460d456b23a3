"""Subcommands of the `outcomes` CLI, one module each (see `outcomes.cli`)."""
