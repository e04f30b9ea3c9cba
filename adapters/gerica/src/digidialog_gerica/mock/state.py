"""The Gerica mock's state, in Gerica's own shape, and the rules it applies to it.

Citizens (Mottaker), visits (Avtale), delivered citizen messages, registered
cancellations and the change feed. Every change of state that Gerica would
report is recorded in the feed with the next Sekvens: a visit registered done
or otherwise changed, a message written by staff, a cancellation decided
(with the visits it cancelled, each recorded as changed first).

Choices where vendors.md is silent (also in the adapter's README):

- HentAvtaler returns visits overlapping ``[Fra, Til)`` ordered by Start and
  AvtaleId; a recurring PLANLAGT series is returned when its first window
  starts before Til and it has not ended (UNTIL) before Fra;
- AntallSider is at least 1, and a page past the last is empty;
- OppdaterDigitalStatus skips citizens it does not know (AntallOppdatert
  counts the rest);
- a period cancellation affects the one-off PLANLAGT and TILDELT visits of
  the named services overlapping the period; recurring series are left to
  staff; a single cancellation of a visit already done or cancelled is
  rejected when decided.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from digidialog.domain.timezone import to_oslo
from digidialog_gerica.mock.records import (
    Cancellation,
    Change,
    Citizen,
    CitizenMessage,
    Decision,
    GericaFault,
    Service,
    StaffMessage,
    Visit,
)
from digidialog_gerica.rrule import parse_rrule
from digidialog_gerica.wire import FaultCode


@dataclass
class GericaState:
    """Everything the mock Gerica holds."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    services: dict[str, Service] = field(default_factory=dict)
    citizens: dict[str, Citizen] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)
    delivered: dict[str, CitizenMessage] = field(default_factory=dict)
    cancellations: dict[str, Cancellation] = field(default_factory=dict)
    feed: list[Change] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ------------------------------------------------------------------ recording

    def record(self, kind: str, payload: Visit | StaffMessage | Decision) -> Change:
        """Add an Endring with the next Sekvens (a snapshot: later edits do not alter it)."""
        snapshot = replace(payload) if isinstance(payload, Visit) else payload
        change = Change(len(self.feed) + 1, self.clock(), kind, snapshot)
        self.feed.append(change)
        return change

    def changes_after(self, sequence: int, most: int) -> tuple[list[Change], int]:
        """HentEndringer: up to ``most`` changes after ``sequence``, and SisteSekvens."""
        # Sekvens is the list position + 1, so the slice is exact.
        return self.feed[max(sequence, 0) : max(sequence, 0) + most], len(self.feed)

    def next_reference(self, prefix: str) -> str:
        """A Gerica reference such as ``GER-MELD-000007``."""
        return f"GER-{prefix}-{next(self._numbers):06d}"

    # ------------------------------------------------------------------ reads

    def citizen(self, national_id: str) -> Citizen:
        """A known citizen, or UKJENT_MOTTAKER."""
        found = self.citizens.get(national_id)
        if found is None:
            raise GericaFault(FaultCode.UKJENT_MOTTAKER, "Mottakeren finnes ikke i Gerica")
        return found

    def open_service(self, code: str) -> Service:
        """A service open for digital dialog, or TJENESTE_IKKE_APEN."""
        service = self.services.get(code)
        if service is None or not service.open_for_dialog:
            raise GericaFault(FaultCode.TJENESTE_IKKE_APEN,
                              "Tjenesten er ikke åpen for digital dialog")
        return service

    def visits_between(self, national_id: str, start: datetime, end: datetime) -> list[Visit]:
        """A citizen's visits overlapping ``[start, end)``, by Start then AvtaleId."""
        self.citizen(national_id)
        if start >= end:
            raise GericaFault(FaultCode.UGYLDIG_PERIODE, "Fra må være før Til")
        found = [v for v in self.visits.values()
                 if v.citizen_id == national_id and _overlaps(v, start, end)]
        return sorted(found, key=lambda v: (v.start, v.avtale_id))

    # ------------------------------------------------------------------ writes from digidialog

    def set_status(self, national_id: str, active: bool, since: date) -> bool:
        """OppdaterDigitalStatus for one citizen; False if Gerica does not know them."""
        citizen = self.citizens.get(national_id)
        if citizen is None:
            return False
        citizen.digital = active
        citizen.digital_since = since
        return True

    def deliver(self, message: CitizenMessage) -> CitizenMessage:
        """LeverMelding; a repeated MeldingId gets the first message (and Kvittering) back."""
        first = self.delivered.get(message.melding_id)
        if first is not None:
            return first
        self.citizen(message.citizen_id)
        self.open_service(message.service_code)
        stored = replace(message, reference=self.next_reference("MELD"))
        self.delivered[message.melding_id] = stored
        return stored

    def register(self, cancellation: Cancellation) -> Cancellation:
        """RegistrerAvbestilling; a repeated AvbestillingId gets the first one back."""
        first = self.cancellations.get(cancellation.request_id)
        if first is not None:
            return first
        self.citizen(cancellation.citizen_id)
        if cancellation.visit_id is not None:
            visit = self.visits.get(cancellation.visit_id)
            if visit is None or visit.citizen_id != cancellation.citizen_id:
                raise GericaFault(FaultCode.UKJENT_AVTALE, "Avtalen finnes ikke for mottakeren")
        if cancellation.period is not None:
            start, end = cancellation.period
            if start >= end:
                raise GericaFault(FaultCode.UGYLDIG_PERIODE, "Fra må være før Til")
            for code in cancellation.service_codes:
                self.open_service(code)
        stored = replace(cancellation, reference=self.next_reference("AVB"))
        self.cancellations[cancellation.request_id] = stored
        return stored

    # ------------------------------------------------------------------ staff levers

    def change_visit(self, avtale_id: str, **changes: object) -> Visit:
        """Staff change a visit (times, status, employee...); recorded as an Endring."""
        visit = self.visits[avtale_id]
        for name, value in changes.items():
            if not hasattr(visit, name):
                raise AttributeError(f"Avtale has no field {name}")
            setattr(visit, name, value)
        visit.changed = self.clock()
        self.record("AVTALE", visit)
        return visit

    def complete_visit(self, avtale_id: str, employee: str | None = None) -> Visit:
        """Staff register a visit done (Status UTFORT, UtfortTidspunkt now)."""
        visit = self.visits[avtale_id]
        return self.change_visit(avtale_id, status="UTFORT", rule=None, cancelled_by=None,
                                 done_at=self.clock(),
                                 employee=employee or visit.employee or "Kari Sykepleier")

    def write_staff_message(self, citizen_id: str, text: str, *, subject: str = "Melding",
                            service_code: str | None = None, author: str = "Kari Sykepleier",
                            thread_id: str | None = None, reply_to: str | None = None,
                            interim: bool = False, kind: str | None = None) -> StaffMessage:
        """Staff write a message to the citizen; recorded as an Endring of Type MELDING.

        ``kind`` is the Meldingstype code to send, or None to send none.
        """
        citizen = self.citizen(citizen_id)
        code = service_code or next(
            (c for c in citizen.service_codes if self.services[c].open_for_dialog),
            citizen.service_codes[0])
        message = StaffMessage(
            melding_id=self.next_reference("ANS"), thread_id=thread_id, reply_to=reply_to,
            service_code=code, citizen_id=citizen_id, subject=subject, text=text,
            author=author, sent=self.clock(), interim=interim, kind=kind,
        )
        self.record("MELDING", message)
        return message

    def decide_cancellations(self, accept: bool, comment: str | None = None) -> list[Decision]:
        """Staff decide every pending cancellation; accepted ones cancel their visits."""
        return [self.decide(cancellation, accept, comment)
                for cancellation in list(self.cancellations.values())
                if not cancellation.decided]

    def decide_cancellation(self, request_id: str, accept: bool, comment: str | None = None
                            ) -> Decision | None:
        """Staff decide one cancellation (None if it was decided before); KeyError if unknown."""
        cancellation = self.cancellations.get(request_id)
        if cancellation is None:
            raise KeyError("Gerica holds no cancellation under that AvbestillingId")
        return None if cancellation.decided else self.decide(cancellation, accept, comment)

    def decide(self, cancellation: Cancellation, accept: bool, comment: str | None) -> Decision:
        """Decide one pending cancellation: the visits it cancels are recorded first (AVLYST,
        AvlystAv BRUKER), then the Avbestillingssvar naming them."""
        cancellation.decided = True
        affected = self._cancellable(cancellation)
        accepted = accept and bool(affected)
        if accepted:
            for avtale_id in affected:
                self.change_visit(avtale_id, status="AVLYST", cancelled_by="BRUKER",
                                  rule=None, employee=None)
        decision = Decision(
            request_id=cancellation.request_id, accepted=accepted,
            comment=comment if accept == accepted else "Ingen besøk kan avbestilles",
            affected=tuple(affected) if accepted else (),
        )
        self.record("AVBESTILLINGSSVAR", decision)
        return decision

    def _cancellable(self, cancellation: Cancellation) -> list[str]:
        if cancellation.visit_id is not None:
            visit = self.visits[cancellation.visit_id]
            return [visit.avtale_id] if visit.status in ("PLANLAGT", "TILDELT") else []
        assert cancellation.period is not None  # noqa: S101 - registration guarantees it
        start, end = cancellation.period
        return [
            v.avtale_id for v in self.visits_between(cancellation.citizen_id, start, end)
            if v.rule is None and v.status in ("PLANLAGT", "TILDELT")
            and v.service_code in cancellation.service_codes
        ]


def _overlaps(visit: Visit, start: datetime, end: datetime) -> bool:
    if visit.rule is None:
        return visit.start < end and start < visit.end
    if visit.start >= end:
        return False
    until = parse_rrule(visit.rule).until
    return until is None or until >= to_oslo(start).date()
