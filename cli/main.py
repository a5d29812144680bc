"""The ``an-deploy`` entry point: registers the commands; each lives in its own small module."""

from __future__ import annotations

import typer

from an_deploy.cli import bench_cmd, export_cmd, models_cmd, parity_cmd, trt_cmd

app = typer.Typer(
    name="an-deploy",
    help="Deploy networks with Attentive Normalization: export to ONNX, build TensorRT engines with the "
    "AttentiveNorm plugin, and check parity and latency against PyTorch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("archs")(models_cmd.archs)
app.command("inspect")(models_cmd.inspect)
app.command("eval")(models_cmd.evaluate)
app.command("export")(export_cmd.export)
app.command("parity")(parity_cmd.parity)
app.command("trt-build", cls=trt_cmd.PlainHelpCommand)(trt_cmd.trt_build)
app.command("bench")(bench_cmd.bench)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
