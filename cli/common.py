"""What every command shares: error lines and exit codes, progress and warnings on stderr, verbosity, JSON
output, and help text that reads well at 80 columns.

Exit codes: 0 success; 1 a user error (one ``error: ...`` line on stderr, what to do included) or a failed
check (``FAILED | ...`` on stdout); 2 a usage error found while parsing the command line (unknown option,
malformed or out-of-range value), shown with the usage line; 130 interrupted (SIGINT, Ctrl-C), 143
terminated (SIGTERM).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperCommand

from an_deploy.errors import Interrupted, UserError

PREFIX = "[an-deploy]"


class _State:
    """Process-wide output settings (set once by the root command's options)."""

    quiet = False
    verbose = False
    console: Console | None = None
    live: Progress | None = None
    task: Any = None
    step: str | None = None
    step_start = 0.0
    # the last stdout guard stays referenced after it is swapped out: print() holds only a borrowed reference
    # to sys.stdout while it writes, and the guard swaps itself out from inside that write
    guard: Any = None


def _console() -> Console:
    if _State.console is None:
        _State.console = Console(stderr=True, highlight=False, soft_wrap=True)
    return _State.console


def configure(quiet: bool = False, verbose: bool = False) -> None:
    """Set the verbosity: ``quiet`` hides progress (errors and warnings stay), ``verbose`` adds step timings."""
    _State.quiet, _State.verbose = quiet, verbose


def _close_step(finished: bool = True) -> None:
    if _State.step is not None and _State.verbose and finished:
        _console().print(f"{PREFIX} done in {time.perf_counter() - _State.step_start:.1f} s: {_State.step}",
                         markup=False)
    _State.step = None


def progress(message: str) -> None:
    """Start a new step: a spinner with the elapsed time on a terminal, else one ``[an-deploy]`` line on stderr.

    Nothing is shown with ``--quiet``; stdout stays for results.
    """
    if _State.quiet:
        return
    _close_step()
    _State.step, _State.step_start = message, time.perf_counter()
    console = _console()
    console.print(f"{PREFIX} {message}", markup=False)
    if not console.is_terminal:
        return
    if _State.live is None:
        _State.live = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn(),
                               console=console, transient=True, redirect_stdout=False, redirect_stderr=False)
        _State.live.start()
        _State.guard = _StdoutGuard(sys.stdout)
        sys.stdout = _State.guard  # type: ignore[assignment]
        _State.task = _State.live.add_task(message)
    else:
        _State.live.update(_State.task, description=message)
        _State.live.reset(_State.task)


class _StdoutGuard:
    """Stands in for ``sys.stdout`` while the spinner runs: the first write stops the spinner, so a result line
    is never mixed into it or erased when it clears (stdout itself is untouched: results never move to stderr)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: Any) -> Any:
        end_progress()
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def end_progress(finished: bool = True) -> None:
    """Stop the spinner (if any) and close the current step (``finished``: it completed, not failed)."""
    if isinstance(sys.stdout, _StdoutGuard):
        sys.stdout = sys.stdout.stream
    if _State.live is not None:
        _State.live.stop()
        _State.live, _State.task = None, None
    _close_step(finished)


def warn(message: str) -> None:
    """One ``warning: ...`` line on stderr (shown even with ``--quiet``)."""
    _console().print(f"warning: {message}", markup=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a ``UserError`` as one ``error: ...`` line on stderr and exit 1; Ctrl-C exits 130 with one line.

    Other exceptions are bugs and keep their traceback.
    """
    try:
        yield
    except UserError as e:
        end_progress(finished=False)
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt as e:
        end_progress(finished=False)
        name, code = (e.args[0], e.exit_code) if isinstance(e, Interrupted) else ("SIGINT", 130)
        typer.echo(f"error: interrupted ({name}); no output was written or partly replaced", err=True)
        raise typer.Exit(code=code) from None
    finally:
        end_progress()


def emit_json(record: dict[str, Any]) -> None:
    """Print a machine-readable record on stdout (the only thing on stdout with ``--json``)."""
    typer.echo(json.dumps(record, indent=2))


JSON_HELP = "Print one JSON object on stdout instead of text (progress stays on stderr)."


def _metavar(param: Any, ctx: Any) -> str:
    """A conventional metavar: INTEGER, FLOAT, PATH, TEXT, or the choices as [a|b]."""
    label = param.display_type(ctx).strip("<>")
    if "|" in label:
        return f"[{label}]"
    return {"int": "INTEGER", "float": "FLOAT", "path": "PATH", "str": "TEXT"}.get(label, label.upper())


class Command(TyperCommand):
    """A typer command whose help uses conventional metavars (``MODEL``, ``[MODEL]``, ``--batch INTEGER``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:  # error messages name arguments as the usage line does: 'MODEL'
            if param.param_type_name == "argument" and param.metavar is None:
                param.metavar = (param.name or "arg").upper()

    def get_short_help_str(self, limit: int = 45) -> str:
        """The docstring's first sentence, whole (the help formatter wraps it instead of cutting it)."""
        text = " ".join((self.short_help or self.help or "").split())
        return text.split(". ")[0].rstrip(".")

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "arg").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            if param.hidden:
                continue
            if param.param_type_name == "argument":
                extra = "  [required]" if param.required else ""
                args.append(((param.name or "arg").upper(), (getattr(param, "help", "") or "") + extra))
            elif param.param_type_name == "option":
                if param.metavar is None and not (param.is_flag or param.count):
                    param.metavar = _metavar(param, ctx)
                record = param.get_help_record(ctx)
                if record is not None:
                    opts.append(record)
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)
