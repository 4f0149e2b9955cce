"""The one exception type for a user's mistake.

A :class:`LithoInputError` carries a single line that names the file, the
field or layer, the bad value and what would be accepted (DESIGN.md §6).
The CLI prints that line and exits non-zero; the API lets it propagate. It
subclasses ``ValueError`` so API callers can catch the ordinary type.
"""

from __future__ import annotations


class LithoInputError(ValueError):
    """A user input litho cannot accept; ``str(err)`` is one line."""

    def __init__(self, message: str):
        # One line, always: the CLI prints it as the whole diagnosis.
        super().__init__(" ".join(str(message).split()))


def where(source: str | None, field: str) -> str:
    """Return ``"file: field"`` (or just ``field``) for error messages."""
    return f"{source}: {field}" if source else field


class LithoNote(UserWarning):
    """A remark on an accepted input (a material name matched by its prefix, ...).

    Issued with :func:`warnings.warn`; the CLI prints it as one line
    ``litho CMD: note: ...`` on stderr.
    """
