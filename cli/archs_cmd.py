"""``an-deploy archs``: the architectures this tool can load, as text or JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from an_deploy.cli.common import JSON_HELP, emit_json
from an_deploy.lazy import lazy_import

# The library loads when a command runs, not for --help (it imports torch): see an_deploy.lazy.
records = lazy_import("an_deploy.json_records")


def archs(json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """List the architectures this tool can load, with their input shape."""
    rec = records.archs_record()
    if json_out:
        emit_json(rec)
        return
    for a in rec["result"]["archs"]:
        typer.echo(f"{a['name']:18s} input {'x'.join(map(str, a['input_shape'])):12s} {a['description']}")
