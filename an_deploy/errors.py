"""The one base class for problems a user can fix (bad path, bad file, unsupported model or shape).

The CLI prints such an error as one line on stderr and exits 1; anything else is a bug and keeps its
traceback.
"""


class UserError(Exception):
    """A problem with the user's input, explained by the message alone."""
