"""Application receipts (AppRec 1.1): did the other side accept our message?"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from digidialog.domain.base import Frozen
from digidialog.domain.timezone import AwareDatetime


class ReceiptStatus(StrEnum):
    """Code system 8258."""

    OK = "ok"  # 1
    REJECTED = "rejected"  # 2
    PARTLY_OK = "partly_ok"  # 3: OK, but an error in a part


class ReceiptError(Frozen):
    """One error from code system 8221 (``T01``, ``T02``, ``E10``, ``E35``, ...)."""

    code: str = Field(min_length=1)
    text: str | None = None
    details: str | None = None


NOT_DIGITALLY_ACTIVE = "E35"


class ApplicationReceipt(Frozen):
    """An AppRec about one message: Helsenorge's (or our) answer to a message received.

    Not to be confused with :class:`digidialog.adapters.EpjReceipt`, the EPJ's
    answer to a write.
    """

    status: ReceiptStatus
    errors: tuple[ReceiptError, ...] = ()
    original_msg_id: str
    original_process: str
    original_issued_at: AwareDatetime | None = None

    @property
    def citizen_not_active(self) -> bool:
        """E35: mark the citizen inactive and resend nothing until they are active."""
        return any(e.code == NOT_DIGITALLY_ACTIVE for e in self.errors)
