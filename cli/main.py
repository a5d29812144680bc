"""The ``an-deploy`` entry point: root options and the commands; each command lives in its own small module."""

from __future__ import annotations

from typing import Annotated

import typer

from an_deploy.cli import archs_cmd, bench_cmd, export_cmd, models_cmd, parity_cmd, trt_cmd
from an_deploy.cli.common import Command, configure
from an_deploy.files import install_termination_handler
from an_deploy.version import __version__

app = typer.Typer(
    name="an-deploy",
    help="Deploy networks with Attentive Normalization: export to ONNX, build TensorRT engines with the "
    "AttentiveNorm plugin, and check parity and latency against PyTorch.\n\n"
    "Outputs: an existing output file is replaced atomically (never half-written, also on Ctrl-C); an output "
    "that is one of the command's inputs is refused. Exit codes: 0 ok, 1 error or failed check, 2 usage "
    "error, 130/143 interrupted (SIGINT/SIGTERM).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"max_content_width": 100},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"an-deploy {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print how long each step took.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr (errors and warnings "
                                        "stay).")] = False,
) -> None:
    """Deploy networks with Attentive Normalization."""
    if verbose and quiet:
        raise typer.BadParameter("--verbose and --quiet exclude each other")
    configure(quiet=quiet, verbose=verbose)


for _name, _fn in (
    ("archs", archs_cmd.archs),
    ("inspect", models_cmd.inspect),
    ("eval", models_cmd.evaluate),
    ("export", export_cmd.export),
    ("parity", parity_cmd.parity),
    ("trt-build", trt_cmd.trt_build),
    ("bench", bench_cmd.bench),
):
    app.command(_name, cls=Command)(_fn)


def main() -> None:
    """Run the command line (the ``an-deploy`` console script); SIGTERM ends it as cleanly as Ctrl-C."""
    install_termination_handler()
    app()


if __name__ == "__main__":
    main()
