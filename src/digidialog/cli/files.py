"""Reading the files people hand to the command line, without trusting them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from digidialog.errors import NotWellFormed
from digidialog.xml.safe import MAX_DOCUMENT_BYTES

# Opening a named pipe for reading blocks until a writer comes; O_NONBLOCK returns at once
# (where the platform has it), so the check after opening cannot hang either.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_limited(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refusing anything larger than ``limit``.

    Anything that is not a regular file (a directory, a named pipe, a device, a
    socket) is refused from its metadata, before it is opened, so a pipe with
    no writer cannot hang the caller and a device cannot feed it forever. Reads
    at most ``limit + 1`` bytes. Raises :class:`NotWellFormed` for what cannot
    be read; the message names the problem, never the content.
    """
    try:
        _require_regular(path.stat().st_mode)
        descriptor = os.open(path, _OPEN_FLAGS)
        with os.fdopen(descriptor, "rb") as handle:
            # The path may have been swapped between stat and open: check what was opened.
            _require_regular(os.fstat(handle.fileno()).st_mode)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise NotWellFormed("no such file") from None
    except PermissionError:
        raise NotWellFormed("permission denied") from None
    except OSError as error:
        raise NotWellFormed(f"cannot be read ({error.strerror or 'I/O error'})") from None
    if len(data) > limit:
        raise NotWellFormed(f"is larger than the limit of {limit} bytes")
    return data


def _require_regular(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise NotWellFormed("is a directory, not a file")
    if not stat.S_ISREG(mode):
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a special file")
        raise NotWellFormed(f"is {kind}, not a regular file")
