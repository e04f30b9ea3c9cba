"""Reading the kind of a staff message from a vendor's code, leniently.

Each vendor marks a staff message answer, dialog, notice or closing with a
code of its own (one optional element the project added to each contract).
An unknown code, from a newer version of the EPJ, is not worth losing the
message for: it reads as absent, so the engine derives the kind from the
thread, and it is logged without the value (free text from the wire).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from digidialog.domain.events import StaffMessageKind
from digidialog.log import get_logger

_log = get_logger("adapters.kinds")


@dataclass(frozen=True)
class StaffKindCodes:
    """One vendor's codes for the kinds of staff message."""

    codes: Mapping[str, StaffMessageKind]
    unknown_event: str
    """The log event for an unknown code (``gerica.unknown_meldingstype``, ...)."""
    id_key: str = "message_id"
    """The log key that names the message (``melding_id``, ...)."""

    def read(self, code: str | None, message_id: str | None) -> StaffMessageKind | None:
        """The kind ``code`` names; ``None`` (derive it) when absent or unknown."""
        if code is None or not code.strip():
            return None
        kind = self.codes.get(code.strip())
        if kind is None:
            _log.warning(self.unknown_event, known=sorted(self.codes),
                         **{self.id_key: (message_id or "").strip()})
        return kind
