"""The uniform control API of a vendor mock: start it, point adapters at it, pull its levers.

Every vendor implements :class:`ConformanceHarness` once, in its ``mock``
package (``digidialog_gerica.mock.harness.GericaHarness``, ...), and hands it
out through the ``digidialog.mocks`` entry point (:mod:`digidialog.testing.mocks`).
The conformance suite, the sync engine's end-to-end tests, ``digidialog
mock-epj`` and users drive every vendor through it the same way.

Ids are always those the adapter reports (service codes, appointment uids,
vendor message ids) or our own (message, thread and request ids), never a
vendor's internal numbers, so a caller needs to know nothing about the vendor;
times are aware datetimes. A lever given a citizen the EPJ does not know, or a
visit that is not the citizen's, raises :class:`LookupError`. What a vendor
cannot carry (a second employee, "not at home", paused dates, a recurrence
rule) the harness says, in :attr:`ConformanceHarness.employees_kept`,
:attr:`ConformanceHarness.cancellation_reasons` and
:meth:`ConformanceHarness.expected_planned`, and each vendor's harness
module documents.

This module imports no test machinery; the mocks it describes need the
``mock`` extra.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypedDict

from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationKind,
    CancellationReason,
    CancellationRequest,
    Frequency,
    Weekday,
)
from digidialog.domain.timezone import OSLO
from digidialog.errors import DigidialogError

if TYPE_CHECKING:
    # Only named here: importing the mock machinery needs the mock extra.
    from digidialog.testing.mockbase import MockEpj


@dataclass(frozen=True)
class ExpectedVisit:
    """A visit the harness seeded, with the instants the adapter must report."""

    uid: str
    start: datetime
    end: datetime


class DeliveredMessage(TypedDict):
    """A citizen's message as the EPJ holds it, in the adapter's terms."""

    message_id: str
    """Our message id: the idempotency key it was delivered under."""
    thread_id: str | None
    in_reply_to: str | None
    citizen_id: str
    service_code: str
    """The service code the adapter reports (``VendorService.code``)."""
    subject: str | None
    text: str
    on_behalf_of_id: str | None
    on_behalf_of_name: str | None
    epj_reference: str
    """The EPJ's own id for the stored message."""


class ConformanceHarness(Protocol):
    """A vendor's mock, adapters pointed at it, and the levers staff would pull."""

    vendor: str
    """The adapter plugin's name (``gerica``, ...)."""

    mock: MockEpj
    """The running fake, for fault injection (``harness.mock.inject(Fault(...))``)."""

    page_size: int
    """The vendor's largest page (citizens or appointments), to seed more than one page."""

    final_faults: dict[str, type[DigidialogError]]
    """Each final vendor fault code and the digidialog error it must become."""

    retriable_fault: str | None
    """A vendor fault code meaning "try later", or None if the vendor has none besides Busy."""

    busy_retry_after: bool
    """Whether the vendor's Busy answer carries Retry-After."""

    employees_kept: int
    """How many of a visit's employees the vendor carries: the adapter reports the first ones."""

    cancellation_reasons: dict[CancellationReason, CancellationReason]
    """What a visit cancelled for each reason is reported as. A vendor that cannot say "not
    at home" reports it as ``by_service``; one that cannot say "on behalf of", as
    ``by_citizen`` (:data:`digidialog.testing.levers.CITIZEN_OR_SERVICE`)."""

    # ------------------------------------------------------------ running

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start the mock (and anything the adapter needs beside it, such as a push endpoint)."""

    def stop(self) -> None:
        """Stop everything started and remove what was written (certificates, stores)."""

    @property
    def base_url(self) -> str:
        """The running mock's ``{base}`` URL."""

    def settings(self, *, valid_credentials: bool = True) -> AdapterSettings:
        """Settings that point the vendor's adapter (or a daemon's config) at the mock."""

    def adapter(self, *, valid_credentials: bool = True, policy: CallPolicy | None = None
                ) -> EpjAdapter:
        """A fresh adapter pointed at the mock (closed when the harness stops)."""

    # ------------------------------------------------------------ what the EPJ holds

    def open_service(self) -> str:
        """The code of a service open for digital dialog."""

    def second_open_service(self) -> str:
        """Another open service's code."""

    def seed_citizens(self, count: int) -> list[str]:
        """Add ``count`` citizens receiving both open services; return their national ids."""

    def seed_visits(self, citizen_id: str, count: int, start: datetime) -> list[ExpectedVisit]:
        """Add ``count`` assigned visits from ``start`` on, one per hour."""

    def seed_dst_visits(self, citizen_id: str) -> list[ExpectedVisit]:
        """Add visits in the repeated autumn hour (both passes) and around the spring gap."""

    def seed_visit(self, citizen_id: str, *, status: AppointmentStatus, start: datetime,
                   end: datetime, service_code: str | None = None, employees: Sequence[str] = (),
                   text: str | None = None, cancelled_by: CancellationReason | None = None,
                   done_at: datetime | None = None, announce: bool = True) -> str:
        """Add one visit in any state; returns the uid the adapter reports for it.

        ``start``/``end`` are the window of a planned visit, the booked time
        otherwise. ``service_code`` defaults to :meth:`open_service`;
        ``employees`` (assigned and completed visits only) are reported up to
        :attr:`employees_kept`; ``text`` comes back exactly, whatever its
        characters; a cancelled visit is cancelled ``cancelled_by`` (default
        ``by_service``), reported as :attr:`cancellation_reasons` says; a
        completed one was done at ``done_at`` (default ``start``). Times come back
        exactly where the vendor's clock can say them (CosDoc: to the minute, and
        the second pass of the autumn hour as the first). A visit that cannot be
        (employees on a planned visit, ``done_at`` on one not done) is a
        :class:`ValueError`.

        With ``announce`` (the default) the EPJ announces the new visit in its
        change feed or push, as it would a visit staff put in: a completed one
        as a :class:`~digidialog.domain.events.VisitCompleted`, any other as an
        :class:`~digidialog.domain.events.AppointmentChanged`.
        """

    def seed_planned_series(self, citizen_id: str, *, service_code: str, start: datetime,
                            end: datetime, frequency: Frequency, by_day: Sequence[Weekday] = (),
                            interval: int = 1, until: date | None = None,
                            paused: Sequence[datetime] = (), text: str | None = None,
                            announce: bool = True) -> str:
        """Add a recurring planned visit; returns the uid the adapter reports for it (for a
        vendor that stores a series as its occurrences, the first occurrence's).

        ``start``/``end`` is the first occurrence's window (``start`` must be an
        occurrence); it repeats every ``interval`` days or weeks, on ``by_day``,
        up to and including ``until``, except at the ``paused`` starts (each
        must be an occurrence). Not every vendor can carry all of that:
        :meth:`expected_planned` says what the adapter will report. ``announce``
        as for :meth:`seed_visit` (one event for the series, or one per stored
        occurrence).
        """

    def expected_planned(self, citizen_id: str, uid: str) -> list[Appointment]:
        """What the adapter reports for the series :meth:`seed_planned_series` returned
        ``uid`` for, as the vendor can carry it: one planned appointment with its
        recurrence, or (a vendor without rules) one per occurrence. Paused dates the
        vendor cannot carry are left out of the recurrence; their occurrences are
        left out where the vendor stores occurrences."""

    def visits(self, citizen_id: str) -> list[Appointment]:
        """Every visit the EPJ holds for the citizen, as the adapter reports them."""

    # ------------------------------------------------------------ what staff do

    def complete_visit(self, citizen_id: str, uid: str) -> None:
        """Staff register the visit done."""

    def write_staff_message(self, citizen_id: str, text: str, *,
                            service_code: str | None = None, subject: str | None = None,
                            thread_id: str | None = None, in_reply_to: str | None = None,
                            interim: bool = False, kind: str | None = None) -> str:
        """Staff write to the citizen; returns the vendor's message id.

        ``kind`` is a :class:`~digidialog.domain.events.StaffMessageKind` value
        (``answer``, ``dialog``, ``notice``, ``closing``) the EPJ marks the message
        with, in its own wire code; ``None`` marks nothing (the kind is then derived:
        an answer in a thread, else a new dialog).

        Without ``thread_id`` the message opens a thread; ``thread_id`` and
        ``in_reply_to`` are our ids as we delivered them (the thread and the
        citizen message answered). ``service_code`` defaults to the citizen's
        first open service, ``subject`` to the vendor's usual one.
        """

    def change_visit(self, citizen_id: str, uid: str, *, start: datetime, end: datetime
                     ) -> None:
        """Staff move a visit; the EPJ announces it (an
        :class:`~digidialog.domain.events.AppointmentChanged` with the new times)."""

    def cancel_visit(self, citizen_id: str, uid: str, *,
                     reason: CancellationReason = CancellationReason.BY_SERVICE) -> None:
        """Staff cancel a visit for ``reason``; the EPJ announces it (an
        :class:`~digidialog.domain.events.AppointmentChanged` with status cancelled and
        the reason :attr:`cancellation_reasons` gives)."""

    def decide_cancellations(self, accept: bool) -> None:
        """Staff decide every pending cancellation."""

    def decide_cancellation(self, request_id: str, accept: bool, comment: str | None = None
                            ) -> None:
        """Staff decide the cancellation registered under our ``request_id`` (the others
        stay pending), with ``comment`` for the citizen; one
        :class:`~digidialog.domain.events.CancellationDecided` follows. Nothing happens
        when nothing of it is pending any more; a request the EPJ never got is a
        :class:`LookupError`."""

    # ------------------------------------------------------------ what reached the EPJ

    def delivered(self, message_id: str) -> list[str]:
        """The texts of the messages stored in the EPJ under our ``message_id``."""

    def delivered_messages(self) -> list[DeliveredMessage]:
        """Every citizen message the EPJ holds, in the order it received them."""

    def cancellations(self, request_id: str) -> int:
        """How many cancellations the EPJ holds for our ``request_id``."""

    def digitally_active(self, citizen_id: str) -> bool:
        """The digital status the EPJ holds for the citizen."""


EXAMPLE_MESSAGE = "Hei! Vi kommer en halvtime senere enn vanlig i morgen."


def add_example_changes(harness: ConformanceHarness, first_day: date | None = None) -> None:
    """Give a started mock a short history in its change feed, as a user would expect to see.

    For the first citizen: a staff message, one of the seeded visits registered
    done, and a cancellation of another decided. The cancellation is
    registered through the vendor's adapter, as digidialog would register it,
    so the decision comes through the feed like any other. ``first_day`` is
    the seed's first day (today unless the mock was seeded from another).
    """
    adapter = harness.adapter()
    try:
        citizen = next(iter(adapter.citizens()), None)
        if citizen is None:
            return
        day = first_day or datetime.now(OSLO).date()
        start = datetime.combine(day - timedelta(days=2), datetime.min.time(), tzinfo=OSLO)
        assigned = sorted(
            (a for a in adapter.appointments(citizen.national_id, start, start + timedelta(days=9))
             if a.status is AppointmentStatus.ASSIGNED),
            key=lambda a: (a.start, a.uid))
        harness.write_staff_message(citizen.national_id, EXAMPLE_MESSAGE,
                                    subject="Besøk i morgen")
        if assigned:
            harness.complete_visit(citizen.national_id, assigned[0].uid)
        if len(assigned) > 1:
            visit = assigned[1]
            adapter.register_cancellation(CancellationRequest(
                request_id=str(uuid.uuid4()), citizen_id=citizen.national_id,
                kind=CancellationKind.SINGLE, start=visit.start, end=visit.end,
                appointment_uid=visit.uid,
                service_ids=(visit.service_id,) if visit.service_id else (),
                reason="Jeg er hos datteren min den dagen.",
            ))
            harness.decide_cancellations(accept=True)
    finally:
        adapter.close()
