"""Where the installed package keeps the schemas it ships.

A wheel carries ``schemas/`` inside the package (``digidialog/schemas``); an
editable install from the source tree reads them from the repository's
top-level ``schemas/`` folder. Nothing is ever fetched over the network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from digidialog.errors import FatalError

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def schema_root() -> Path:
    """The folder holding ``helsenorge/`` and one folder per vendor."""
    for candidate in (_PACKAGE_DIR / "schemas", _PACKAGE_DIR.parent.parent / "schemas"):
        if (candidate / "helsenorge").is_dir():
            return candidate
    raise FatalError("digidialog's schemas are missing from this installation")


def schema_path(*parts: str) -> Path:
    """A file under the schema root, e.g. ``schema_path("helsenorge", "MsgHead-v1_2.xsd")``."""
    return schema_root().joinpath(*parts)
