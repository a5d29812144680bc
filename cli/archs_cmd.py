"""``an-deploy archs``: the architectures this tool can load, as text or JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from an_deploy.cli.common import JSON_HELP, emit_json


def archs(json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """List the architectures this tool can load, with their input shape."""
    from an_deploy.json_records import archs_record

    rec = archs_record()
    if json_out:
        emit_json(rec)
        return
    for a in rec["result"]["archs"]:
        typer.echo(f"{a['name']:18s} input {'x'.join(map(str, a['input_shape'])):12s} {a['description']}")
