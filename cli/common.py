"""What every command shares: turning user errors into one stderr line and exit code 1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from an_deploy.errors import UserError


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a ``UserError`` as ``error: ...`` on stderr and exit 1; other exceptions keep their traceback."""
    try:
        yield
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=1) from None


def progress(message: str) -> None:
    """A progress line on stderr (stdout stays for results)."""
    print(f"[an-deploy] {message}", file=sys.stderr, flush=True)
