"""Output files: same-file refusal, early path checks, staged all-or-nothing writes, permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from an_deploy.files import (
    OutputPathError,
    check_output_dir,
    check_output_file,
    staged_outputs,
    write_bytes_atomic,
)


def test_an_input_reached_by_any_name_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "model.pt"
    src.write_bytes(b"weights")
    (tmp_path / "link.pt").symlink_to(src)
    os.link(src, tmp_path / "hard.pt")
    (tmp_path / "sub").mkdir()
    for alias in (src, tmp_path / "link.pt", tmp_path / "hard.pt", tmp_path / "sub" / ".." / "model.pt"):
        with pytest.raises(OutputPathError, match="it is the input"):
            check_output_file(alias, inputs=[src])
    check_output_file(tmp_path / "other.onnx", inputs=[src, None])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.pt", "link.pt", "model.pt", "sub"]


@pytest.mark.parametrize(
    ("path", "message"),
    [("{dir}", "is a folder"), ("{dir}/missing/x.json", "does not exist"), ("/proc/x.json", "cannot create files"),
     ("/dev/null", "not a regular file")],
)
def test_unwritable_output_files_are_found_before_work(tmp_path: Path, path: str, message: str) -> None:
    with pytest.raises(OutputPathError, match=message):
        check_output_file(Path(path.replace("{dir}", str(tmp_path))))


def test_output_folders(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    check_output_dir(tmp_path / "new" / "deeper")
    with pytest.raises(OutputPathError, match="is a file"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(OutputPathError, match="is a file"):
        check_output_dir(tmp_path / "f" / "below")
    with pytest.raises(OutputPathError, match="cannot create files"):
        check_output_dir(Path("/proc/an-deploy-reports"))
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_staged_outputs_are_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("old a")
    with pytest.raises(RuntimeError), staged_outputs() as stage:
        stage.write_text(tmp_path / "a.json", "new a")
        stage.write_text(tmp_path / "b.md", "new b")
        raise RuntimeError("the chart failed")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"] and (tmp_path / "a.json").read_text() == "old a"
    with staged_outputs() as stage:
        stage.write_text(tmp_path / "a.json", "new a")
        stage.write_text(tmp_path / "b.md", "new b")
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {"a.json": "new a", "b.md": "new b"}


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_0666_minus_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        write_bytes_atomic(tmp_path / "x.txt", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == mode
