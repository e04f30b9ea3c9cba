"""The NotifyEvent endpoint digidialog hosts: credentials, durable storage, duplicates, crashes."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from lxml import etree
from profil_support import drain, started

from digidialog.domain.events import VisitCompleted
from digidialog_profil.mock import wire as mock_wire
from digidialog_profil.mock.harness import PUSH_PASSWORD, PUSH_USER, ProfilHarness
from digidialog_profil.push import NotifyEndpoint, PushServer
from digidialog_profil.store import EventStore
from digidialog_profil.wire import CONTENT_TYPE, NAMESPACE, SOAP_NS, action

CITIZEN = "15076500565"
HEADERS = {"Content-Type": f'{CONTENT_TYPE}; action="{action("NotifyEvent")}"'}


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[PushServer]:
    """A push endpoint on its own store."""
    store = EventStore(tmp_path / "events.sqlite3")
    server = PushServer(NotifyEndpoint(store, PUSH_USER, PUSH_PASSWORD)).start()
    try:
        yield server
    finally:
        server.stop()
        store.close()


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


def event(event_id: str | None = None, **changes: object) -> bytes:
    """A NotifyEvent envelope as Profil sends it."""
    fields: dict[str, object] = {
        "event_id": event_id or str(uuid.uuid4()), "event_type": "VisitDone",
        "occurred_at": datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "national_id": CITIZEN,
        "visit_id": 500_001, "accepted": None, "comment": None,
    }
    fields.update(changes)
    return mock_wire.notify_event(**fields)  # type: ignore[arg-type]


def post(server: PushServer, body: bytes, *, auth: tuple[str, str] | None = (
        PUSH_USER, PUSH_PASSWORD), headers: dict[str, str] | None = None) -> requests.Response:
    """POST to the endpoint."""
    return requests.post(server.url, data=body, headers=headers or HEADERS, auth=auth, timeout=5)


def accepted(reply: requests.Response) -> bool:
    """Whether the reply is HTTP 200 with NotifyEventResponse/Accepted = true."""
    return reply.status_code == 200 and mock_wire.accepted(reply.content)


def subcode(reply: requests.Response) -> str | None:
    """The p: subcode of a SOAP 1.2 fault reply."""
    root = etree.fromstring(reply.content)
    return root.findtext(f".//{{{SOAP_NS}}}Subcode/{{{SOAP_NS}}}Value")


# ------------------------------------------------------------ authentication


@pytest.mark.parametrize("auth", [None, (PUSH_USER, "wrong"), ("someone", PUSH_PASSWORD),
                                  ("", "")])
def test_wrong_or_missing_credentials_get_401_and_store_nothing(
        endpoint: PushServer, auth: tuple[str, str] | None) -> None:
    """Only the credentials Profil is configured with are let in."""
    reply = post(endpoint, event(), auth=auth)
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"].startswith("Basic")
    assert endpoint.endpoint.store.count() == 0


# ------------------------------------------------------------ storing before answering


def test_accepted_is_answered_only_once_the_event_is_stored(endpoint: PushServer) -> None:
    """When Accepted = true arrives, a separate connection to the file already sees it."""
    store = endpoint.endpoint.store
    seen_at_answer: list[int] = []
    original = NotifyEndpoint.answer

    def answer(self: NotifyEndpoint) -> object:
        other = EventStore(store.path)  # a fresh connection: only committed rows show
        seen_at_answer.append(other.count())
        other.close()
        return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NotifyEndpoint, "answer", answer)
        assert accepted(post(endpoint, event()))
    assert seen_at_answer == [1]


def test_when_storing_fails_profil_is_told_to_try_again(endpoint: PushServer) -> None:
    """A store that cannot take the event: p:Busy on HTTP 503 with Retry-After, never
    Accepted; the next attempt, once the store works, is stored and accepted."""
    body = event()
    with pytest.MonkeyPatch.context() as patch:
        def broken(self: EventStore, _event: object) -> bool:
            raise sqlite3.OperationalError("disk I/O error")

        patch.setattr(EventStore, "add", broken)
        reply = post(endpoint, body)
    assert reply.status_code == 503
    assert reply.headers["Retry-After"].isdigit()
    assert subcode(reply) == "p:Busy"
    assert not mock_wire.accepted(reply.content)
    assert accepted(post(endpoint, body))
    assert endpoint.endpoint.store.count() == 1


def test_a_repeated_event_id_is_stored_once(endpoint: PushServer) -> None:
    """Profil resends until acknowledged; each resend is answered Accepted, stored once."""
    body = event()
    assert accepted(post(endpoint, body))
    assert accepted(post(endpoint, body))
    assert accepted(post(endpoint, event(str(uuid.uuid4()))))
    assert endpoint.endpoint.store.count() == 2


def test_a_crash_between_storing_and_answering_loses_nothing(harness: ProfilHarness) -> None:
    """The endpoint stores the event and dies before answering: Profil sees no answer and
    resends, the resend is recognised and answered, the feed has the event once."""
    citizen = harness.seed_citizens(1)[0]
    (visit,) = harness.seed_visits(citizen, 1, datetime(2026, 6, 1, 8, tzinfo=UTC))
    crashes: list[int] = []
    original = NotifyEndpoint.answer

    def crash_once(self: NotifyEndpoint) -> object:
        if not crashes:
            crashes.append(1)
            raise RuntimeError("the daemon died here")
        return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NotifyEndpoint, "answer", crash_once)
        harness.complete_visit(citizen, visit.uid)
    assert crashes == [1]
    assert harness.mock.undelivered == []
    attempts = [e for e in harness.mock.exchanges if e.operation == "NotifyEvent"]
    assert [e.status for e in attempts] == [500, 200]
    assert attempts[0].request == attempts[1].request
    events, _ = drain(harness.adapter())
    assert [e.appointment.uid for e in events if isinstance(e, VisitCompleted)] == [visit.uid]


def test_profil_resends_until_the_endpoint_is_back(harness: ProfilHarness,
                                                   tmp_path: Path) -> None:
    """With the endpoint down every try fails; the event waits at Profil and arrives,
    once, when it is redelivered to an endpoint that is up again."""
    citizen = harness.seed_citizens(1)[0]
    (visit,) = harness.seed_visits(citizen, 1, datetime(2026, 6, 1, 8, tzinfo=UTC))
    assert harness.push is not None
    url = harness.push.url
    harness.push.stop()
    harness.complete_visit(citizen, visit.uid)
    assert len(harness.mock.undelivered) == 1
    assert harness.push_store is not None
    assert harness.push_store.count() == 0
    host, port = url.split("//")[1].split("/")[0].split(":")
    harness.push = PushServer(NotifyEndpoint(harness.push_store, PUSH_USER, PUSH_PASSWORD),
                              host, int(port)).start()
    assert harness.mock.redeliver() == 1
    assert harness.push_store.count() == 1
    assert harness.mock.redeliver() == 0


def test_concurrent_resends_are_stored_once(endpoint: PushServer) -> None:
    """The same event from eight threads at once: one row."""
    body = event()
    replies: list[requests.Response] = []
    threads = [threading.Thread(target=lambda: replies.append(post(endpoint, body)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(accepted(r) for r in replies)
    assert endpoint.endpoint.store.count() == 1


def test_a_stored_event_survives_the_process(endpoint: PushServer) -> None:
    """What was acknowledged is in the file: a store opened afresh reads it back."""
    event_id = str(uuid.uuid4())
    assert accepted(post(endpoint, event(event_id, event_type="CancellationDecision",
                                         accepted=False, comment="Kan ikke")))
    reopened = EventStore(endpoint.endpoint.store.path)
    (stored,) = reopened.after(0, 10)
    reopened.close()
    assert stored.event.event_id == event_id
    assert (stored.event.accepted, stored.event.comment) == (False, "Kan ikke")
    assert stored.event.occurred_at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


# ------------------------------------------------------------ invalid input


def _envelope(inner: str) -> bytes:
    return (f'<env:Envelope xmlns:env="{SOAP_NS}" xmlns:p="{NAMESPACE}"><env:Body>{inner}'
            "</env:Body></env:Envelope>").encode()


@pytest.mark.parametrize(("body", "why"), [
    (b"not xml at all", "not XML"),
    (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><e>&x;</e>',
     "XXE"),
    (_envelope("<p:GetVisit><p:VisitId>1</p:VisitId></p:GetVisit>"), "another operation"),
    (_envelope("<p:NotifyEvent><p:EventId>nope</p:EventId></p:NotifyEvent>"), "schema"),
    (event(national_id="15076500566"), "national id check digits"),
    (event(event_type="CancellationDecision"), "decision without Accepted"),
    (event(visit_id=None), "VisitDone without VisitId"),
    (b"<a>" + b"x" * 70_000 + b"</a>", "too large"),
])
def test_invalid_input_is_a_sender_fault_and_stores_nothing(
        endpoint: PushServer, body: bytes, why: str) -> None:
    """Broken, hostile or wrong messages get env:Sender/p:Invalid on HTTP 400."""
    reply = post(endpoint, body)
    assert reply.status_code == 400, why
    assert subcode(reply) == "p:Invalid", why
    assert CITIZEN not in reply.text
    assert endpoint.endpoint.store.count() == 0


def test_only_soap_12_posts_to_the_path_are_served(endpoint: PushServer) -> None:
    """Wrong media type: a fault; wrong method: 405; wrong path: 404."""
    reply = post(endpoint, event(), headers={"Content-Type": "text/xml"})
    assert (reply.status_code, subcode(reply)) == (400, "p:Invalid")
    wrong_action = {"Content-Type": f'{CONTENT_TYPE}; action="{action("GetVisit")}"'}
    assert post(endpoint, event(), headers=wrong_action).status_code == 400
    assert requests.get(endpoint.url, auth=(PUSH_USER, PUSH_PASSWORD),
                        timeout=5).status_code == 405
    assert requests.post(endpoint.url + "x", data=event(), headers=HEADERS,
                         auth=(PUSH_USER, PUSH_PASSWORD), timeout=5).status_code == 404
