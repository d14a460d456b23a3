"""The `outcomes` command line: one subcommand per module in `outcomes.commands`.

Each command module defines `HELP` (one line), `EXAMPLES` (shown at the end of its --help),
`add_arguments(parser)` and `run(args) -> int`. Errors a user can fix (bad extract, bad
parameters) are raised as `UserError` (or a subclass, such as `ExtractError`) and printed without
a traceback, with exit code 2. The secrets a command is given (a `--url`'s password and secret
parameters, PGPASSWORD) are remembered and scrubbed from everything it prints, in any form
(`outcomes.credentials`). SIGTERM (what `timeout`, schedulers and CI send) stops a command as
Ctrl-C does, so its temporary files are removed (exit 143; Ctrl-C exits 130). Output piped into a reader that
stops early (`outcomes measure ... | head`) ends quietly, as Unix tools do (exit 141, SIGPIPE's).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from outcomes import __version__
from outcomes.errors import UserError, terminal_safe
from outcomes.credentials import ScrubbedStream, redact_secrets, remember_url

#: subcommand name -> module under outcomes.commands (imported only when that command runs)
COMMANDS = {
    "validate": "validate",
    "reference": "reference",
    "measure": "measure",
    "effect": "effect",
    "spc": "spc",
    "report": "report",
    "notebooks": "notebooks",
    "load-warehouse": "load_warehouse",
    "check-outputs": "check_outputs",
}

#: exit code for input the user must fix (invalid extract, bad parameters)
EXIT_USER_ERROR = 2
#: exit code when the reader of our output went away (128 + SIGPIPE, as a shell reports `yes | head`)
EXIT_BROKEN_PIPE = 141
#: exit codes of a command stopped by Ctrl-C (SIGINT) and by SIGTERM, as a shell reports them
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so it unwinds (and cleans up) as after Ctrl-C."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand that is installed."""
    parser = argparse.ArgumentParser(prog="outcomes", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"outcomes {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"outcomes.commands.{module_name}")
        except ModuleNotFoundError as missing:
            if missing.name == f"outcomes.commands.{module_name}":
                continue  # command not built yet
            raise
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP,
                                    epilog=getattr(module, "EXAMPLES", None),
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def _without_iri_grammars() -> None:
    """jsonschema (under nbformat, under papermill) imports `rfc3987_syntax` where it is installed
    (JupyterLab's jupyter-events asks for it), and that compiles 39 lark grammars on import: 2-3 s of
    every command that reads a notebook, before the report's first notebook starts. No command
    checks IRIs against a schema, so this process goes without it, and jsonschema skips its "iri"
    formats as it does wherever the package is not installed. Only the CLI's own process: a
    notebook or a program importing `outcomes` is left as it is."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type] - None: "cannot be imported"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `outcomes` console script; returns the process exit code."""
    _without_iri_grammars()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USER_ERROR
    remember_url(getattr(args, "url", None))
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbedStream(sys.stdout), ScrubbedStream(sys.stderr)
    previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except UserError as error:
        print(f"outcomes {args.command}: {terminal_safe(redact_secrets(str(error)))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdout, sys.stderr = streams
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's final flush does not raise on the closed pipe again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced by an object without a descriptor (tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
