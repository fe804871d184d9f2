"""The `guidec` command line.

Every command follows one convention for exit codes: 0 done (warnings may have been printed),
1 the input has findings (check errors, failed cases, a refused build), 2 bad usage or
unreadable input, 3 the environment lacks something asked for. Commands are loaded lazily so
that `guidec fmt` does not import the solver or Jinja2.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3

#: command name -> "module:attribute", imported only when the command runs (or for --help).
COMMANDS = {
    "check": "cli.check:check",
    "fmt": "cli.fmt:fmt",
    "build": "cli.build:build",
    "eval": "cli.eval:eval_",
    "test": "cli.test:test",
    "diff": "cli.diff:diff",
    "explain": "cli.explain:explain",
    "lsp": "cli.lsp:lsp_command",
}

SHORT_HELP = {
    "check": "Check guidelines: syntax, names, types and the solver's proofs.",
    "fmt": "Format guidelines canonically (or --check that they are).",
    "build": "Generate targets: Python evaluator, flowchart, handout.",
    "eval": "Evaluate a patient (or a cohort) against a guideline.",
    "test": "Run the case blocks of guidelines and report coverage.",
    "diff": "Compare two versions of a guideline by structure and behaviour.",
    "explain": "Explain a diagnostic code, with a fixture that shows it.",
    "lsp": "Serve the Language Server Protocol on stdio, for editors.",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _available(cmd_name):
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            near = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" Did you mean `guidec {near[0]}`?" if near else ""
            raise click.UsageError(f"no command `{name}`.{hint}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, SHORT_HELP[n]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    module = COMMANDS[name].split(":")[0]
    return importlib.util.find_spec(module) is not None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("guidec")
    except Exception:
        return "0.1.0"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Example: guidec check guidelines/leptomeningeal.guide\n\n"
                    "Exit codes: 0 done, 1 findings, 2 bad usage or input, 3 missing tool.")
@click.version_option(None, "--version", package_name="guidec", prog_name="guidec",
                      message="%(prog)s %(version)s")
def cli() -> None:
    """guidec: a compiler for clinical practice guidelines.

    It parses a .guide file, proves it sound with a solver, and generates a Python evaluator,
    a Graphviz flowchart and an HTML handout from the same source.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI with the exit-code convention.

    Ctrl-C exits 130 and SIGTERM 143 (after every temporary file is removed); a closed pipe
    is a quiet exit 0; standard output that cannot be written (a full disk) is exit 2.
    """
    import signal

    from dsl.terminal import COLOURS, GuardedStream, PipeClosed

    # Whatever a command prints may quote a guideline or a patient: neutralise it once, here.
    sys.stdout = GuardedStream(sys.stdout, COLOURS)
    sys.stderr = GuardedStream(sys.stderr, COLOURS)
    signal.signal(signal.SIGTERM, _terminated)
    code = EXIT_OK
    try:
        cli.main(args=argv, prog_name="guidec", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else 1)
        if isinstance(exc.__context__, BrokenPipeError):  # click's own exit for a closed pipe
            _quiet_stdout()
            code = EXIT_OK
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Abort as exc:
        if not isinstance(exc.__cause__, KeyboardInterrupt | EOFError):
            raise
        code = _interrupted()
    except KeyboardInterrupt:
        code = _interrupted()
    except (BrokenPipeError, PipeClosed):
        _quiet_stdout()
        code = EXIT_OK
    except OSError as exc:  # standard output on a full disk, a device error
        _quiet_stdout()
        click.echo(f"error: cannot write the output ({exc.strerror or exc})", err=True)
        code = EXIT_USAGE
    try:
        sys.stdout.flush()
    except (BrokenPipeError, PipeClosed):
        _quiet_stdout()
    except OSError as exc:
        _quiet_stdout()
        click.echo(f"error: cannot write to standard output ({exc.strerror})", err=True)
        code = max(code, EXIT_USAGE)
    sys.exit(code)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _interrupted() -> int:
    click.echo("interrupted", err=True)
    return 130


def _quiet_stdout() -> None:
    """Point standard output at /dev/null: the interpreter's last flush then finds nothing
    to write to a closed pipe or a full disk."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    finally:
        os.close(devnull)


if __name__ == "__main__":
    main()
