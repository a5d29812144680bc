"""Progress on stderr: a spinner with elapsed time on a terminal, plain lines otherwise, nothing with --quiet."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import pytest
from rich.console import Console

from an_deploy.cli import common


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    yield buffer
    common.end_progress()
    common.configure()
    common._State.console = None


def _use(buffer: io.StringIO, terminal: bool) -> None:
    common._State.console = Console(file=buffer, force_terminal=terminal, width=80, highlight=False)


def test_a_terminal_gets_a_live_spinner_and_one_line_per_step(stderr: io.StringIO) -> None:
    _use(stderr, terminal=True)
    common.progress("exporting [demo]")
    assert common._State.live is not None and common._State.live.live.is_started
    common.progress("timing torch-fp32")
    common.end_progress()
    assert common._State.live is None
    text = stderr.getvalue()
    assert "[an-deploy] exporting [demo]" in text and "[an-deploy] timing torch-fp32" in text


def test_without_a_terminal_steps_are_plain_lines(stderr: io.StringIO) -> None:
    _use(stderr, terminal=False)
    common.configure(verbose=True)
    common.progress("loading")
    common.progress("exporting")
    common.end_progress()
    lines = stderr.getvalue().splitlines()
    assert lines[0] == "[an-deploy] loading" and lines[1].startswith("[an-deploy] done in ")
    assert lines[2] == "[an-deploy] exporting" and lines[3].endswith(" s: exporting")
    assert common._State.live is None


def test_quiet_shows_no_progress_but_warnings(stderr: io.StringIO) -> None:
    _use(stderr, terminal=True)
    common.configure(quiet=True)
    common.progress("loading")
    common.warn("fc.weight has NaN")
    assert common._State.live is None
    assert stderr.getvalue().strip() == "warning: fc.weight has NaN"


def test_a_result_on_stdout_stops_the_spinner_first_and_stays_on_stdout(
    stderr: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(stderr, terminal=True)
    common.progress("validating")
    assert common._State.live is not None
    print("PASSED | result")
    assert common._State.live is None and not isinstance(sys.stdout, common._StdoutGuard)
    assert capsys.readouterr().out == "PASSED | result\n"
    assert "PASSED" not in stderr.getvalue()
