"""Threads, messages and cancellations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from digidialog.domain import (
    CancellationDecision,
    CancellationKind,
    CancellationOutcome,
    CancellationRequest,
    Message,
    MessageKind,
    OnBehalfOf,
    Person,
    Relation,
    Thread,
    combine_decisions,
)
from digidialog.domain.timezone import OSLO

CITIZEN = Person(national_id="13116900216", given_name="Line", family_name="Danser")
RELATIVE = Person(national_id="15076500565", given_name="Roland", family_name="Gundersen")
SENT = datetime(2026, 11, 23, 9, tzinfo=OSLO)


def _message(kind: MessageKind, msg_id: str, **fields: object) -> Message:
    base: dict[str, object] = {"msg_id": msg_id, "thread_id": "m1", "kind": kind,
                               "citizen": CITIZEN, "sent_at": SENT, "body": "Hei"}
    base.update(fields)
    return Message.model_validate(base)


def test_thread_of_question_reply_and_close() -> None:
    """A citizen's question, a staff reply, and the service closing the thread."""
    question = _message(MessageKind.CITIZEN_QUESTION, "m1",
                        on_behalf_of=OnBehalfOf(person=RELATIVE, relation=Relation.FULLMAKT))
    reply = _message(MessageKind.SERVICE_REPLY, "m2", parent_id="m1", staff_author="Kari",
                     interim=True)
    thread = Thread(thread_id="m1", messages=(question, reply))
    assert thread.citizen_may_reply
    closed = Thread(thread_id="m1", messages=(
        question, reply, _message(MessageKind.THREAD_CLOSED, "m3", parent_id="m2")))
    assert closed.closed and not closed.citizen_may_reply


@pytest.mark.parametrize(
    ("kind", "fields", "error"),
    [
        (MessageKind.SERVICE_REPLY, {}, "parent_id"),
        (MessageKind.CITIZEN_QUESTION, {"parent_id": "m0"}, "no parent"),
        (MessageKind.SERVICE_REPLY, {"parent_id": "m1", "on_behalf_of": OnBehalfOf(
            person=RELATIVE, relation=Relation.VERGE)}, "citizen's side"),
        (MessageKind.CITIZEN_ANSWER, {"parent_id": "m1", "staff_author": "Kari"}, "staff author"),
        (MessageKind.SERVICE_NOTICE, {}, "needs a subject"),
    ],
)
def test_thread_rules(kind: MessageKind, fields: dict[str, object], error: str) -> None:
    """Replies need parents, openers have none, proxies write only for the citizen's side."""
    with pytest.raises(ValidationError, match=error):
        _message(kind, "m1" if kind.opens_thread else "m2", **fields)


def test_portal_display_limits() -> None:
    """Helsenorge shows 50 characters of a subject and 1000 of a body."""
    long = _message(MessageKind.CITIZEN_QUESTION, "m1", subject="s" * 60, body="b" * 1200)
    assert len(long.shown_subject or "") == 50 and long.shown_subject.endswith("…")
    assert len(long.shown_body) == 1000
    assert not long.fits_portal
    assert _message(MessageKind.CITIZEN_QUESTION, "m1", subject="Kort").fits_portal


def _request(kind: CancellationKind, **fields: object) -> CancellationRequest:
    base: dict[str, object] = {"request_id": "c1", "citizen_id": CITIZEN.national_id,
                               "kind": kind, "start": SENT, "end": SENT + timedelta(days=2)}
    base.update(fields)
    return CancellationRequest.model_validate(base)


def test_cancellation_shapes() -> None:
    """A single cancellation names its appointment; a period names its services once each."""
    assert _request(CancellationKind.SINGLE, appointment_uid="v1").appointment_uid == "v1"
    assert _request(CancellationKind.PERIOD, service_ids=("12", "13")).service_ids == ("12", "13")
    with pytest.raises(ValidationError, match="names the appointment"):
        _request(CancellationKind.SINGLE)
    with pytest.raises(ValidationError, match="at least one service"):
        _request(CancellationKind.PERIOD)
    with pytest.raises(ValidationError, match="each service once"):
        _request(CancellationKind.PERIOD, service_ids=("12", "12"))
    with pytest.raises(ValidationError, match="ends before"):
        _request(CancellationKind.PERIOD, service_ids=("12",), end=SENT - timedelta(hours=1))


def test_combined_decision_is_accepted_only_if_every_visit_was() -> None:
    """A period expanded into visits gets one answer: accepted only if all parts were."""
    ok = CancellationDecision(request_id="c1", outcome=CancellationOutcome.ACCEPTED,
                              affected_uids=("v1",))
    no = CancellationDecision(request_id="c1", outcome=CancellationOutcome.REJECTED,
                              affected_uids=("v2",), comment="Besøket er allerede gjennomført")
    assert combine_decisions("c1", [ok, ok]).accepted
    mixed = combine_decisions("c1", [ok, no])
    assert not mixed.accepted
    assert mixed.affected_uids == ("v1",)
    assert mixed.comment == "Besøket er allerede gjennomført"
    assert not combine_decisions("c1", []).accepted
