"""Profil's control API (:class:`~digidialog.testing.harness.ConformanceHarness`): the mock,
the push endpoint digidialog hosts, adapters pointed at both, and the levers.

Profil tells us what changed by pushing NotifyEvent, so the harness starts the
push endpoint (with its own event store in a temporary folder) beside the mock
and points the mock's pushes at it, with the credentials Profil would be
configured with. The levers change the mock's state the way staff would, and
the mock pushes the events; the adapter's ``changes`` reads what was stored
(``settings().options["event_store"]``). The conformance suite, ``digidialog
mock-epj`` and the ``mock_epj`` fixture reach it through the
``digidialog.mocks`` entry point (:mod:`.plugin`).
"""

from __future__ import annotations

import random
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.domain.timezone import from_oslo_wall_clock
from digidialog.errors import DigidialogError
from digidialog.testing.harness import DeliveredMessage, ExpectedVisit
from digidialog.testing.seed import national_id
from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.faults import FINAL_FAULTS
from digidialog_profil.mock.server import ProfilMock
from digidialog_profil.mock.state import SERVICE_IDS
from digidialog_profil.push import NotifyEndpoint, PushServer
from digidialog_profil.store import EventStore

PUSH_USER = "profil-push"
PUSH_PASSWORD = "push-secret"  # noqa: S105 - a test credential
OPEN = SERVICE_IDS["HSP"]
SECOND_OPEN = SERVICE_IDS["PB"]
MESSAGE_TYPES = {"answer": "Reply", "dialog": "Dialog", "notice": "Notice",
                 "closing": "Closing"}
"""The contract's MessageType for each kind (written out here, not taken from the
adapter, so the suite checks the adapter's reading of them)."""


def oslo(year: int, month: int, day: int, hour: int, minute: int = 0, *,
         first: bool = True) -> datetime:
    """An Oslo wall-clock time as an instant (``first``: the first pass of a repeated hour)."""
    wall_clock = datetime(year, month, day, hour, minute)  # noqa: DTZ001 - made an instant below
    return from_oslo_wall_clock(wall_clock, first_occurrence=first)


class ProfilHarness:
    """Profil's mock, the NotifyEvent endpoint and adapters, for the conformance suite."""

    vendor = "profil"
    page_size = 25
    retriable_fault = None
    busy_retry_after = True

    def __init__(self, *, seed_citizens: int = 3, first_day: date | None = None) -> None:
        """A mock with ``seed_citizens`` seeded clients, their visits around ``first_day``."""
        self.final_faults: dict[str, type[DigidialogError]] = dict(FINAL_FAULTS)
        self.mock = ProfilMock(seed_citizens=seed_citizens, page_size=self.page_size,
                               first_day=first_day)
        self.folder: Path | None = None
        self.push_store: EventStore | None = None
        self.push: PushServer | None = None
        self._adapters: list[ProfilAdapter] = []
        self._rng = random.Random(2026)  # noqa: S311 - test identities, not secrets

    @property
    def store_path(self) -> Path:
        """The event store the push endpoint writes and the adapters' feeds read."""
        if self.folder is None:
            raise RuntimeError("the harness is not started")
        return self.folder / "events.sqlite3"

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start the mock on ``host:port`` and the push endpoint beside it (owner-only
        temporary folder for its store), and point the mock's pushes at it."""
        self.folder = Path(tempfile.mkdtemp(prefix="profil-mock-"))
        self.mock.start(host=host, port=port)
        self.push_store = EventStore(self.store_path)
        self.push = PushServer(NotifyEndpoint(self.push_store, PUSH_USER, PUSH_PASSWORD),
                               host).start()
        self.mock.push_to(self.push.url, PUSH_USER, PUSH_PASSWORD, attempts=3, backoff=0.02)
        # Profil keeps what it could not push and resends it: whatever waits goes out now.
        self.mock.redeliver()

    def stop(self) -> None:
        """Stop everything and remove the temporary store."""
        for adapter in self._adapters:
            adapter.close()
        self._adapters.clear()
        if self.push is not None:
            self.push.stop()
            self.push = None
        if self.push_store is not None:
            self.push_store.close()
            self.push_store = None
        self.mock.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @property
    def base_url(self) -> str:
        """The mock's ``{base}``."""
        return self.mock.base_url

    def settings(self, *, valid_credentials: bool = True) -> AdapterSettings:
        """Settings pointing an adapter at the mock and at the push endpoint's store."""
        return AdapterSettings(
            base_url=self.mock.base_url, username=self.mock.username,
            password=self.mock.password if valid_credentials else "wrong",
            options={"event_store": str(self.store_path)},
        )

    def adapter(self, *, valid_credentials: bool = True,
                policy: CallPolicy | None = None) -> ProfilAdapter:
        """A fresh adapter (closed when the harness stops)."""
        adapter = ProfilAdapter(self.settings(valid_credentials=valid_credentials),
                                policy=policy or CallPolicy(timeout=5.0, attempts=2,
                                                            backoff_initial=0.05))
        self._adapters.append(adapter)
        return adapter

    def open_service(self) -> str:
        """Hjemmesykepleie, ServiceId 1."""
        return str(OPEN)

    def second_open_service(self) -> str:
        """Praktisk bistand, ServiceId 2."""
        return str(SECOND_OPEN)

    def seed_citizens(self, count: int) -> list[str]:
        """New clients of both open services, with no visits."""
        made: list[str] = []
        while len(made) < count:
            ident = national_id(self._rng)
            if ident in self.mock.state.clients:
                continue
            with self.mock._lock:
                self.mock.state.add_client(ident, "Áilu Ŋuolla", [OPEN, SECOND_OPEN])
            made.append(ident)
        return made

    def _visit(self, citizen_id: str, start: datetime, end: datetime,
               service: int = OPEN) -> ExpectedVisit:
        with self.mock._lock:
            visit = self.mock.state.add_visit(citizen_id, service, 1, start.astimezone(UTC),
                                              end.astimezone(UTC), text="Besøk",
                                              employee="Ola Pleier")
        return ExpectedVisit(uid=str(visit.visit_id), start=visit.start, end=visit.end)

    def seed_visits(self, citizen_id: str, count: int, start: datetime) -> list[ExpectedVisit]:
        """``count`` assigned hour-long visits of the open service, one per hour."""
        return [self._visit(citizen_id, start + timedelta(hours=i),
                            start + timedelta(hours=i + 1)) for i in range(count)]

    def seed_dst_visits(self, citizen_id: str) -> list[ExpectedVisit]:
        """The repeated autumn hour on both passes, across it, and around the spring gap."""
        autumn, spring = (2026, 10, 25), (2026, 3, 29)
        return [
            # 02:15-02:45 on the first pass (summer time) and again on the second (winter time).
            self._visit(citizen_id, oslo(*autumn, 2, 15), oslo(*autumn, 2, 45)),
            self._visit(citizen_id, oslo(*autumn, 2, 15, first=False),
                        oslo(*autumn, 2, 45, first=False)),
            # From the first pass into the second: 02:30 CEST to 02:30 CET is one hour.
            self._visit(citizen_id, oslo(*autumn, 2, 30), oslo(*autumn, 2, 30, first=False)),
            # 01:30 to 03:30 on the spring morning is one hour: 02:00-03:00 never happens.
            self._visit(citizen_id, oslo(*spring, 1, 30), oslo(*spring, 3, 30)),
            self._visit(citizen_id, oslo(*spring, 1, 0), oslo(*spring, 1, 59)),
            self._visit(citizen_id, oslo(*spring, 3, 0), oslo(*spring, 4, 0)),
        ]

    def complete_visit(self, citizen_id: str, uid: str) -> None:
        """Staff register the visit done; Profil pushes VisitDone."""
        self.mock.complete_visit(int(uid))

    def write_staff_message(self, citizen_id: str, text: str, *,
                            service_code: str | None = None, subject: str | None = None,
                            thread_id: str | None = None, in_reply_to: str | None = None,
                            interim: bool = False, kind: str | None = None) -> str:
        """Staff write to the citizen (ThreadExternalId and InReplyTo are our ids); Profil
        pushes OutboxMessage. Returns the MessageId."""
        if service_code is None:
            client = self.mock.state.client(citizen_id)
            service_id = next((s for s in client.service_ids
                               if self.mock.state.services[s].enabled), client.service_ids[0])
        else:
            service_id = int(service_code)
        return str(self.mock.write_staff_message(
            citizen_id, service_id, text, subject=subject or "Nøkkelboks", thread=thread_id,
            in_reply_to=in_reply_to, interim=interim,
            message_type=None if kind is None else MESSAGE_TYPES[kind]))

    def decide_cancellations(self, accept: bool) -> None:
        """Staff decide every pending cancellation; Profil pushes one decision per visit."""
        self.mock.decide_cancellations(accept, comment=None if accept else "Kan ikke avlyses")

    def delivered(self, message_id: str) -> list[str]:
        """Bodies Profil holds under our ExternalId (at most one: it is idempotent)."""
        entry = self.mock.state.inbox.get(message_id)
        return [] if entry is None else [entry.body]

    def delivered_messages(self) -> list[DeliveredMessage]:
        """Every message PostInboxMessage stored, in the order Profil received them."""
        return [
            DeliveredMessage(
                message_id=m.external_id, thread_id=m.thread_external_id or None,
                in_reply_to=m.in_reply_to, citizen_id=m.national_id,
                service_code=str(m.service_id), subject=m.subject or None, text=m.body,
                on_behalf_of_id=m.on_behalf_of[0] if m.on_behalf_of else None,
                on_behalf_of_name=m.on_behalf_of[1] if m.on_behalf_of else None,
                epj_reference=str(m.message_id),
            )
            for m in self.mock.delivered_messages()
        ]

    def cancellations(self, request_id: str) -> int:
        """CancelVisit calls Profil holds for our request (one ExternalId per visit)."""
        prefix = f"{request_id}:"
        return sum(1 for key in self.mock.state.cancellations if key.startswith(prefix))

    def digitally_active(self, citizen_id: str) -> bool:
        """The DigitallyActive flag Profil holds."""
        return bool(self.mock.state.clients[citizen_id].active)
