"""What the conformance suite needs from a vendor: its mock, its adapter, and a few levers.

A vendor implements :class:`ConformanceHarness` once, in its own tests; the
suite then checks the whole adapter contract against the vendor's mock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.mockbase import MockEpj
from digidialog.adapters.soap import CallPolicy
from digidialog.errors import DigidialogError


@dataclass(frozen=True)
class ExpectedVisit:
    """A visit the harness seeded, with the instants the adapter must report."""

    uid: str
    start: datetime
    end: datetime


class ConformanceHarness(Protocol):
    """A vendor's mock, its adapter and the levers the suite pulls."""

    vendor: str
    mock: MockEpj
    page_size: int
    """The vendor's largest page (citizens or appointments), to seed more than one page."""

    final_faults: dict[str, type[DigidialogError]]
    """Each final vendor fault code and the digidialog error it must become."""

    retriable_fault: str | None
    """A vendor fault code meaning "try later", or None if the vendor has none besides Busy."""

    busy_retry_after: bool
    """Whether the vendor's Busy answer carries Retry-After."""

    def start(self) -> None:
        """Start the mock (and anything the adapter hosts, such as a push endpoint)."""

    def stop(self) -> None:
        """Stop everything started."""

    def adapter(self, *, valid_credentials: bool = True, policy: CallPolicy | None = None
                ) -> EpjAdapter:
        """A fresh adapter pointed at the mock."""

    def open_service(self) -> str:
        """The code of a service open for digital dialog."""

    def second_open_service(self) -> str:
        """Another open service's code."""

    def seed_citizens(self, count: int) -> list[str]:
        """Add ``count`` citizens receiving the open service; return their national ids."""

    def seed_visits(self, citizen_id: str, count: int, start: datetime) -> list[ExpectedVisit]:
        """Add ``count`` assigned visits from ``start`` on, one per hour."""

    def seed_dst_visits(self, citizen_id: str) -> list[ExpectedVisit]:
        """Add visits in the repeated autumn hour (both passes) and around the spring gap."""

    def complete_visit(self, citizen_id: str, uid: str) -> None:
        """Staff register the visit done."""

    def write_staff_message(self, citizen_id: str, text: str, kind: str | None = None) -> None:
        """Staff write a message to the citizen.

        ``kind`` is a :class:`~digidialog.domain.events.StaffMessageKind` value
        (``answer``, ``dialog``, ``notice``, ``closing``) that the EPJ marks the
        message with, in its own wire code; ``None`` marks nothing and starts a new
        thread. An ``answer`` or ``closing`` goes into a thread of the citizen's.
        """

    def decide_cancellations(self, accept: bool) -> None:
        """Staff decide every pending cancellation."""

    def delivered(self, message_id: str) -> list[str]:
        """The texts of the messages stored in the EPJ under our ``message_id``."""

    def cancellations(self, request_id: str) -> int:
        """How many cancellations the EPJ holds for our ``request_id``."""

    def digitally_active(self, citizen_id: str) -> bool:
        """The digital status the EPJ holds for the citizen."""
