"""Reading the files people hand to the command line, without trusting them."""

from __future__ import annotations

from pathlib import Path

from digidialog.errors import NotWellFormed
from digidialog.xml.safe import MAX_DOCUMENT_BYTES


def read_limited(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The file's bytes, refusing anything larger than ``limit`` without reading it all.

    Reads at most ``limit + 1`` bytes, so a device or a pipe that never ends
    cannot exhaust memory. Raises :class:`NotWellFormed` for what cannot be
    read; the message names the problem, never the content.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except IsADirectoryError:
        raise NotWellFormed("is a directory, not a file") from None
    except FileNotFoundError:
        raise NotWellFormed("no such file") from None
    except PermissionError:
        raise NotWellFormed("permission denied") from None
    except OSError as error:
        raise NotWellFormed(f"cannot be read ({error.strerror or 'I/O error'})") from None
    if len(data) > limit:
        raise NotWellFormed(f"is larger than the limit of {limit} bytes")
    return data
