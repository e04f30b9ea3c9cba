"""Staff messages from the EPJ: the kind the EPJ gives, the kind derived, and their rules."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from digidialog.domain.events import StaffMessage, StaffMessageKind
from digidialog.domain.timezone import OSLO

SENT = datetime(2026, 11, 23, 9, tzinfo=OSLO)


def _staff(**fields: object) -> StaffMessage:
    base: dict[str, object] = {"vendor_message_id": "M-9", "service_code": "HSP",
                               "citizen_id": "13116900216", "body": "Hei", "sent_at": SENT}
    base.update(fields)
    return StaffMessage.model_validate(base)


@pytest.mark.parametrize(
    ("fields", "resolved"),
    [
        ({}, StaffMessageKind.DIALOG),
        ({"thread_id": "T-1", "in_reply_to": "M-1"}, StaffMessageKind.ANSWER),
        ({"thread_id": "T-1"}, StaffMessageKind.ANSWER),
        ({"thread_id": "T-1", "interim": True}, StaffMessageKind.ANSWER),
    ],
)
def test_an_absent_kind_is_derived_from_the_thread(
    fields: dict[str, object], resolved: StaffMessageKind
) -> None:
    """No kind: in a thread it is an answer, without one it starts a dialog."""
    message = _staff(**fields)
    assert message.kind is None
    assert message.resolved_kind is resolved


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "answer", "thread_id": "T-1", "in_reply_to": "M-1", "interim": True},
        {"kind": "answer", "thread_id": "T-1"},
        {"kind": "dialog"},
        {"kind": "notice", "subject": "Stengt i romjulen"},
        {"kind": "closing", "thread_id": "T-1", "in_reply_to": "M-1"},
        {"kind": "closing", "thread_id": "T-1"},
    ],
)
def test_a_given_kind_is_kept(fields: dict[str, object]) -> None:
    """A kind the EPJ gave is kept as it is, and is the resolved kind."""
    message = _staff(**fields)
    assert message.kind is StaffMessageKind(fields["kind"])
    assert message.resolved_kind is message.kind


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": "notice", "thread_id": "T-1"}, "notice starts a thread"),
        ({"kind": "notice", "in_reply_to": "M-1"}, "notice starts a thread"),
        ({"kind": "closing"}, "closing needs the thread"),
        ({"kind": "closing", "in_reply_to": "M-1"}, "closing needs the thread"),
        ({"kind": "dialog", "interim": True}, "only an answer"),
        ({"kind": "notice", "interim": True}, "only an answer"),
        ({"kind": "closing", "thread_id": "T-1", "interim": True}, "only an answer"),
        ({"interim": True}, "only an answer"),
        ({"kind": "reminder"}, "kind"),
    ],
)
def test_kind_rules(fields: dict[str, object], error: str) -> None:
    """Notices have no thread, closings need one, only answers are interim, kinds are known."""
    with pytest.raises(ValidationError, match=error):
        _staff(**fields)


def test_kind_values_are_the_wire_neutral_names() -> None:
    """The four kinds and their values, which harnesses and the engine use as strings."""
    assert [k.value for k in StaffMessageKind] == ["answer", "dialog", "notice", "closing"]
