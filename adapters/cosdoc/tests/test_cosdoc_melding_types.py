"""Melding/Type read into StaffMessage.kind: each code, none, and unknown ones."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from digidialog.domain.events import StaffMessage, StaffMessageKind
from digidialog_cosdoc.documents import Field, build, read
from digidialog_cosdoc.mapping import UnusableRecord, read_melding
from digidialog_cosdoc.wire import Kommando

CITIZEN = "13116900216"


def _melding(code: str | None, *, thread: bool) -> StaffMessage:
    """A HENT_MELDING answer holding one Melding of patient 100001, read for CITIZEN."""
    fields: list[Field] = [
        ("MeldingId", "M7"), ("TradId", "T-1" if thread else None),
        ("SvarPaMeldingId", "E-1" if thread else None), ("TjenesteKode", 101),
        ("PasientNr", 100001), ("Emne", "Besøk"), ("Tekst", "Hei Áilu"),
        ("Forfatter", "Kari Sykepleier"), ("Sendt", [("Dato", "2026-03-02"), ("Kl", "12:00")]),
        ("Midlertidig", "N"), ("Type", code),
    ]
    root = read(build(Kommando.HENT_MELDING, [("Melding", fields)]), Kommando.HENT_MELDING)
    pasient_nr, message = read_melding(root[0], CITIZEN)
    assert pasient_nr == 100001
    return message


@pytest.mark.parametrize(
    ("code", "thread", "kind"),
    [
        ("SVAR", True, StaffMessageKind.ANSWER),
        ("DIALOG", False, StaffMessageKind.DIALOG),
        ("VARSEL", False, StaffMessageKind.NOTICE),
        ("AVSLUTT", True, StaffMessageKind.CLOSING),
        (" AVSLUTT ", True, StaffMessageKind.CLOSING),
        (None, True, None),
        (None, False, None),
    ],
)
def test_type_becomes_the_staff_message_kind(
    code: str | None, thread: bool, kind: StaffMessageKind | None
) -> None:
    """Each code is its kind; without one the kind is derived from the thread."""
    message = _melding(code, thread=thread)
    assert message.kind is kind
    derived = StaffMessageKind.ANSWER if thread else StaffMessageKind.DIALOG
    assert message.resolved_kind is (kind or derived)


def test_an_unknown_type_is_derived_and_logged_without_its_value() -> None:
    """A code a newer CosDoc invents does not lose the message: derived, with a warning."""
    with capture_logs() as logs:
        message = _melding("PAMINNELSE-13116900216", thread=True)
    assert message.kind is None and message.resolved_kind is StaffMessageKind.ANSWER
    assert [entry["event"] for entry in logs] == ["cosdoc.unknown_melding_type"]
    assert logs[0]["log_level"] == "warning" and logs[0]["melding_id"] == "M7"
    for personal in ("PAMINNELSE", CITIZEN, "Áilu", "Kari"):
        assert personal not in str(logs)


def test_a_type_that_contradicts_its_thread_is_an_unusable_record() -> None:
    """A closing without a thread is refused like any Melding the domain refuses."""
    with pytest.raises(UnusableRecord, match="Melding"):
        _melding("AVSLUTT", thread=False)
