"""The one home for writing user-facing files: output-path checks, same-file refusal, atomic and
interrupt-safe writes, and ordinary permissions.

The convention every command follows:

* An output that is (or resolves to, or is the same file as) one of the command's inputs is refused before
  any work starts. An input file is never overwritten.
* Output folders are checked before the expensive work (exists, is a folder, a file can be created in it).
* An existing output file is replaced, atomically: the new content is written to a hidden temporary file in
  the same folder and renamed over the target, so a reader sees the old file or the new one, never half.
* Several outputs of one command (report JSON + Markdown + chart) are staged together and renamed together.
* SIGINT and SIGTERM while a file is being written remove the temporary files before the process ends; the
  renames run with both signals blocked, so an interrupt leaves either all outputs or none.
* Files get mode 0666 minus the umask (0644 under the usual umask 022), like any file a shell creates.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from an_deploy.errors import Interrupted, UserError

# Test hook only: seconds to sleep after half of each staged file is written, so a test can deliver a signal
# while a temporary file exists. Unset in normal use.
WRITE_DELAY_ENV = "AN_DEPLOY_TEST_WRITE_DELAY"

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_live_temps: set[Path] = set()
_lock = threading.Lock()


class OutputPathError(UserError):
    """An output path cannot be written, or would overwrite an input."""


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def refuse_inputs(output: Path, inputs: Iterable[Path | None], what: str = "output") -> None:
    """Refuse an output that is one of the inputs (same path after resolving links, or the same file).

    Args:
        output: the path the command would write.
        inputs: every file the command reads (``None`` entries are ignored).
        what: how the message names the output (``--report``, ``-o`` ...).

    Raises:
        OutputPathError: ``output`` is one of ``inputs``.
    """
    for source in inputs:
        if source is not None and _same_file(output, Path(source)):
            raise OutputPathError(
                f"refusing to write {what} {output}: it is the input {source}, which would be lost; "
                "choose another output path"
            )


def _probe_folder(folder: Path, failure: str) -> None:
    """Create and remove a file in ``folder``: the only check that sees read-only mounts and pseudo file systems."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".an-deploy-probe.", dir=folder)
    except OSError as e:
        raise OutputPathError(f"{failure}: cannot create files in {folder} ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(probe)


def check_output_file(path: Path, inputs: Iterable[Path | None] = (), what: str = "output") -> None:
    """Check, before any work, that ``path`` can be written as a file without destroying an input.

    Args:
        path: the output file (replaced atomically later if it exists).
        inputs: the command's input files, which the output must not be.
        what: how the message names the output.

    Raises:
        OutputPathError: the path is a folder or a special file, its folder is missing or not writable, or
            it is one of the inputs.
    """
    path = Path(path)
    refuse_inputs(path, inputs, what)
    if path.is_dir():
        raise OutputPathError(f"{what} {path} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise OutputPathError(f"{what} {path} exists and is not a regular file; give another file name")
    parent = path.parent
    if not parent.is_dir():
        raise OutputPathError(f"cannot write {path}: folder {parent} does not exist (create it first)")
    _probe_folder(parent, f"cannot write {path}")


def check_output_dir(path: Path, inputs: Iterable[Path | None] = (), what: str = "output folder") -> None:
    """Check, before any work, that ``path`` is (or can be created as) a writable folder.

    Raises:
        OutputPathError: ``path`` is a file (or an input), or no file can be created in it or its nearest
            existing parent.
    """
    path = Path(path)
    refuse_inputs(path, inputs, what)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{what} {path} is a file; give a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(f"cannot create {what} {path}: {existing} is a file")
    _probe_folder(existing, f"cannot use {what} {path}")


def file_mode() -> int:
    """0666 minus the process umask (read without changing it where /proc tells it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _remove_live_temps() -> None:
    with _lock:
        for tmp in list(_live_temps):
            try:
                tmp.unlink()
            except OSError:
                pass
            _live_temps.discard(tmp)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _remove_live_temps()
    raise Interrupted(signum)


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install_termination_handler() -> None:
    """Make SIGTERM raise :class:`Interrupted` like Ctrl-C does, so ``finally`` blocks (temporary folders and
    files) run instead of the process vanishing. For command-line entry points, main thread only."""
    signal.signal(signal.SIGTERM, _raise_interrupted)


@contextmanager
def _signals_blocked() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def _cleanup_on_signal() -> Iterator[None]:
    """While inside, SIGINT/SIGTERM remove every live temporary file first (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    for s in _SIGNALS:
        signal.signal(s, _on_signal)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class Staging:
    """Outputs written to hidden temporary files, renamed over their targets together by :func:`staged_outputs`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)
        self._mode = file_mode()

    def path_for(self, target: Path) -> Path:
        """A new hidden temporary file next to ``target`` for a writer that needs a path (e.g. a chart library);
        it is renamed over ``target`` on commit."""
        target = Path(target)
        with _signals_blocked():
            try:
                fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            except OSError as e:
                raise OutputPathError(f"cannot write {target}: {e.strerror or e}") from None
            tmp = Path(name)
            with _lock:
                _live_temps.add(tmp)
            self._pending.append((tmp, target))
        os.close(fd)
        return tmp

    def write_bytes(self, target: Path, data: bytes) -> None:
        """Stage ``data`` for ``target``."""
        tmp = self.path_for(target)
        delay = float(os.environ.get(WRITE_DELAY_ENV, "0") or 0)
        try:
            with open(tmp, "wb") as f:
                half = len(data) // 2
                f.write(data[:half])
                if delay > 0:
                    f.flush()
                    time.sleep(delay)
                f.write(data[half:])
        except OSError as e:
            raise OutputPathError(f"cannot write {target}: {e.strerror or e}") from None

    def write_text(self, target: Path, text: str) -> None:
        """Stage ``text`` (UTF-8) for ``target``."""
        self.write_bytes(target, text.encode("utf-8"))

    def commit(self) -> None:
        """Give every staged file its mode and rename it over its target, with SIGINT/SIGTERM blocked."""
        with _signals_blocked():
            try:
                for tmp, target in self._pending:
                    os.chmod(tmp, self._mode)
                    os.replace(tmp, target)
                    with _lock:
                        _live_temps.discard(tmp)
            except OSError as e:
                raise OutputPathError(f"cannot write {target}: {e.strerror or e}") from None
            finally:
                self.discard()

    def discard(self) -> None:
        """Remove every temporary file not yet renamed."""
        for tmp, _ in self._pending:
            with _lock:
                _live_temps.discard(tmp)
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
        self._pending.clear()


@contextmanager
def staged_outputs() -> Iterator[Staging]:
    """Stage outputs and rename them all over their targets when the block ends without an exception.

    On an exception, SIGINT or SIGTERM inside the block, no temporary file remains and no target changes.

    Raises:
        OutputPathError: a temporary file cannot be created or written, or a rename fails.
    """
    staging = Staging()
    with _cleanup_on_signal():
        try:
            yield staging
        except BaseException:
            staging.discard()
            raise
        staging.commit()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write one file atomically and interrupt-safely (see :func:`staged_outputs`).

    Raises:
        OutputPathError: the write failed; ``path`` is unchanged and no temporary file is left.
    """
    with staged_outputs() as stage:
        stage.write_bytes(Path(path), data)
