"""OutboxMessage/MessageType read into StaffMessage.kind: each value, none, and unknown ones."""

from __future__ import annotations

import pytest
from lxml import etree
from structlog.testing import capture_logs

from digidialog.domain.events import StaffMessageKind
from digidialog.errors import MalformedReply
from digidialog_profil.mapping import staff_messages
from digidialog_profil.wire import NAMESPACE

CITIZEN = "13116900216"


def _outbox(message_type: str | None, *, thread: bool) -> etree._Element:
    """A GetOutboxMessagesResponse holding one OutboxMessage."""
    in_thread = ("<p:ThreadExternalId>T-1</p:ThreadExternalId><p:InReplyTo>M-1</p:InReplyTo>"
                 if thread else "")
    type_element = "" if message_type is None else f"<p:MessageType>{message_type}</p:MessageType>"
    return etree.fromstring(
        f'<p:GetOutboxMessagesResponse xmlns:p="{NAMESPACE}"><p:OutboxMessage>'
        f"<p:MessageId>4711</p:MessageId>{in_thread}<p:ServiceId>10</p:ServiceId>"
        f"<p:NationalId>{CITIZEN}</p:NationalId><p:Subject>Nøkkelboks</p:Subject>"
        "<p:Body>Hei Áilu</p:Body><p:Author>Kari Sykepleier</p:Author>"
        "<p:SentAt>2026-03-02T12:00:00</p:SentAt><p:Interim>false</p:Interim>"
        f"{type_element}</p:OutboxMessage></p:GetOutboxMessagesResponse>")


@pytest.mark.parametrize(
    ("message_type", "thread", "kind"),
    [
        ("Reply", True, StaffMessageKind.ANSWER),
        ("Dialog", False, StaffMessageKind.DIALOG),
        ("Notice", False, StaffMessageKind.NOTICE),
        ("Closing", True, StaffMessageKind.CLOSING),
        (" Closing ", True, StaffMessageKind.CLOSING),
        (None, True, None),
        (None, False, None),
    ],
)
def test_message_type_becomes_the_staff_message_kind(
    message_type: str | None, thread: bool, kind: StaffMessageKind | None
) -> None:
    """Each value is its kind; without one the kind is derived from the thread."""
    (message,) = staff_messages(_outbox(message_type, thread=thread))
    assert message.kind is kind
    derived = StaffMessageKind.ANSWER if thread else StaffMessageKind.DIALOG
    assert message.resolved_kind is (kind or derived)


def test_an_unknown_message_type_is_derived_and_logged_without_its_value() -> None:
    """A value a newer Profil invents does not lose the message: derived, with a warning."""
    with capture_logs() as logs:
        (message,) = staff_messages(_outbox("Reminder-13116900216", thread=False))
    assert message.kind is None and message.resolved_kind is StaffMessageKind.DIALOG
    assert [entry["event"] for entry in logs] == ["profil.unknown_message_type"]
    assert logs[0]["log_level"] == "warning" and logs[0]["message_id"] == "4711"
    for personal in ("Reminder", CITIZEN, "Áilu", "Kari"):
        assert personal not in str(logs)


def test_a_kind_that_contradicts_its_thread_is_a_malformed_reply() -> None:
    """A notice inside a thread is refused like any OutboxMessage the domain refuses."""
    with pytest.raises(MalformedReply, match="OutboxMessage"):
        staff_messages(_outbox("Notice", thread=True))
