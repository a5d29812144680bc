"""The exceptions every layer shares.

``UserError``: a problem a user can fix (bad path, bad file, unsupported model or shape). The CLI prints it as
one ``error: ...`` line on stderr and exits 1; anything else is a bug and keeps its traceback.

``Interrupted``: SIGINT or SIGTERM arrived; raised from the signal handler so every ``finally`` runs (temporary
files are removed) and the CLI exits 128 + the signal number.
"""

from __future__ import annotations

import signal


def first_line(e: BaseException) -> str:
    """The first line of an exception's message, or its type name when the message is empty (for one-line
    errors that wrap a library's multi-line one)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class UserError(Exception):
    """A problem with the user's input, explained by the message alone."""


class Interrupted(KeyboardInterrupt):
    """The process received ``signum`` (a KeyboardInterrupt, so code that handles Ctrl-C handles it too)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum
