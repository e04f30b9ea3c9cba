"""Every official example message decodes to the right function and re-encodes valid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationOutcome,
    CancellationReason,
    DigitalStatus,
    ReceiptStatus,
)
from digidialog.errors import UnsupportedProcess
from digidialog.helsenorge import Function, decode, encode
from tests.conftest import examples_folder, official_example

# What each official example must decode to: every one is of a served process, and each
# is read, even those a municipality never receives (booking confirmations, attest answers).
EXPECTED: dict[str, tuple[Function, str]] = {
    "APPREC_1.1__AppRec_OK_example.xml": (Function.RECEIPT, "1"),
    "DIALOG_INNBYGGER_AVTALEAVBESTILLING_1.0__Avbestill_time_-_Foresporsel_innbygger_-_"
    "Avbestill_reservert_time.xml": (Function.CANCELLATION_REQUEST, "ART"),
    "DIALOG_INNBYGGER_AVTALEAVBESTILLING_1.0__Avbestill_time_-_Svar_helsepersonell_-_"
    "Avbestilling_av_time_bekreftet.xml": (Function.CANCELLATION_REPLY, "08"),
    "DIALOG_INNBYGGER_AVTALEAVBESTILLING_1.0__Avbestill_time_-_Svar_helsepersonell_-_"
    "Time_kunne_ikke_avbestilles.xml": (Function.CANCELLATION_REPLY, "09"),
    "DIALOG_INNBYGGER_AVTALEUTSENDING_1.0__Avtaleutsending_-_Helsepersonell_-_"
    "Avbestilling_av_time_bekreftet.xml": (Function.APPOINTMENT_NOTICE, "08"),
    "DIALOG_INNBYGGER_AVTALEUTSENDING_1.0__Avtaleutsending_-_Helsepersonell_-_"
    "Endring_av_time_bekreftet.xml": (Function.APPOINTMENT_NOTICE, "07"),
    "DIALOG_INNBYGGER_AVTALEUTSENDING_1.0__Avtaleutsending_-_Helsepersonell_-_"
    "Melding_om_avtale.xml": (Function.APPOINTMENT_NOTICE, "MOA"),
    "DIALOG_INNBYGGER_AVTALEUTSENDING_1.0__Avtaleutsending_-_Helsepersonell_-_"
    "Pasient_ikke_mott.xml": (Function.APPOINTMENT_NOTICE, "11"),
    "DIALOG_INNBYGGER_AVTALEUTSENDING_1.0__Avtaleutsending_-_Helsepersonell_-_"
    "Timereservasjon_bekreftet.xml": (Function.BOOKING_CONFIRMATION, "05"),
    "DIALOG_INNBYGGER_DIGITALBRUKER_1.1__Sjekk_om_digitalt_aktiv_-_Foresporsel_helsepersonell_-_"
    "Sjekk_om_innbyggere_er_digitalt_aktive_brukere.xml": (Function.DIGITAL_STATUS_QUERY, "SIDAB"),
    "DIALOG_INNBYGGER_DIGITALBRUKER_1.1__Sjekk_om_digitalt_aktiv_-_Svar_innbygger_-_"
    "Digitale_aktive_brukere_.xml": (Function.DIGITAL_STATUS_REPLY, "28"),
    "DIALOG_INNBYGGER_DIGITALBRUKER_1.1__Sjekk_om_digitalt_aktiv_-_Svar_innbygger_-_"
    "Ingen_digitale_brukere.xml": (Function.DIGITAL_STATUS_REPLY, "29"),
    "DIALOG_INNBYGGER_DIGITALBRUKER_1.1__Varsel_om_endring_i_status_-_Innbygger_-_"
    "Status_digital_aktiv_bruker_-_Aktiv.xml": (Function.DIGITAL_STATUS_CHANGE, "SDAB"),
    "DIALOG_INNBYGGER_DIGITALBRUKER_1.1__Varsel_om_endring_i_status_-_Innbygger_-_"
    "Status_digital_aktiv_bruker_-_Inaktiv.xml": (Function.DIGITAL_STATUS_CHANGE, "SDAB"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Dialog_med_innbygger_-_Foresporsel_helsepersonell_-_"
    "Dialog_innbygger.xml": (Function.SERVICE_MESSAGE, "DI"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Dialog_med_innbygger_-_Svar_Helsepersonell_-_"
    "Dialog_avsluttet.xml": (Function.THREAD_CLOSED, "13"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Dialog_med_innbygger_-_Svar_innbygger_-_"
    "Svar_fra_innbygger.xml": (Function.CITIZEN_REPLY, "22"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Engangskontakt_-_Helsepersonell_-_"
    "Engangskontakt_med_innbygger.xml": (Function.SERVICE_NOTICE, "EKI"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Henvendelse_-_Foresporsel_innbygger_-_Henvendelse.xml":
        (Function.CITIZEN_MESSAGE, "HE"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Henvendelse_-_Svar_helsepersonell_-_Attest_ferdigstilt.xml":
        (Function.ATTEST_REPLY, "17"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Henvendelse_-_Svar_helsepersonell_-_"
    "Attest_kan_ikke_utstedes.xml": (Function.ATTEST_REPLY, "18"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Henvendelse_-_Svar_helsepersonell_-_Dialog_avsluttet.xml":
        (Function.THREAD_CLOSED, "13"),
    "DIALOG_INNBYGGER_EKONTAKT_1.2__Henvendelse_-_Svar_helsepersonell_-_"
    "Svar_pa_henvendelse.xml": (Function.SERVICE_REPLY, "19"),
    "DIALOG_INNBYGGER_TIMERESERVASJON_1.2__Planlagte_timer_-_Foresporsel_innbygger_-_"
    "Hent_planlagte_timer.xml": (Function.PLANNED_APPOINTMENTS_REQUEST, "HBT"),
    "DIALOG_INNBYGGER_TIMERESERVASJON_1.2__Planlagte_timer_-_Svar_helsepersonell_-_"
    "Bestilte_timer.xml": (Function.PLANNED_APPOINTMENTS_REPLY, "01"),
    "DIALOG_INNBYGGER_TIMERESERVASJON_1.2__Planlagte_timer_-_Svar_helsepersonell_-_"
    "Ingen_bestilte.xml": (Function.PLANNED_APPOINTMENTS_REPLY, "02"),
}

# Parametrized by the table, not by the folder: without the reference material each test
# is skipped, or fails under CI (tests.conftest.reference_missing), rather than vanishing.
NAMES = sorted(EXPECTED)


def test_every_example_has_an_expectation() -> None:
    """The table above covers exactly the example files that exist, no more, no less."""
    assert {p.name for p in examples_folder().glob("*.xml")} == set(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_example_decodes_to_its_function(name: str) -> None:
    """Each example is understood as the function its file name says."""
    message = decode(official_example(name).read_bytes())
    assert (message.function, message.code) == EXPECTED[name]


def test_a_process_not_served_is_still_refused() -> None:
    """An example's message under a process digidialog does not serve is refused clearly."""
    data = official_example(NAMES[-1]).read_bytes().replace(
        b'V="DIALOG_INNBYGGER_TIMERESERVASJON"', b'V="DIALOG_INNBYGGER_TIMER"', 1)
    with pytest.raises(UnsupportedProcess, match="unsupported process 'DIALOG_INNBYGGER_TIMER'"):
        decode(data)


@pytest.mark.parametrize("name", NAMES)
def test_example_reencodes_valid_and_unchanged(
    name: str, official_validate: Callable[[bytes], list[str]]
) -> None:
    """decode -> encode validates against the official schemas and decodes to the same message."""
    message = decode(official_example(name).read_bytes())
    xml = encode(message)
    assert official_validate(xml) == []
    again = decode(xml)
    assert again.model_dump(exclude={"warnings"}) == message.model_dump(exclude={"warnings"})
    assert again.warnings == ()  # what we write needs no repair


def _decoded(fragment: str) -> Any:
    (name,) = [n for n in NAMES if fragment in n]
    return decode(official_example(name).read_bytes())


def test_citizen_message_fields() -> None:
    """The Henvendelse carries patient, HER-ids and the question text."""
    message = _decoded("Henvendelse_-_Foresporsel_innbygger")
    assert message.patient.id == "13116900216"
    assert (message.patient.given_name, message.patient.family_name) == ("Line", "Danser")
    assert message.sender.her_ids == ("115851", "8130047")
    assert message.receiver.her_ids == (None, "91095")
    assert message.receiver.org_numbers == ("971318864", None)
    assert message.conversation is None
    assert message.body.startswith("Hei. Jeg skal ha eksamen")


def test_service_notice_keeps_xhtml_body() -> None:
    """The EKI example's XHTML body survives as XHTML, not flattened text."""
    message = _decoded("Engangskontakt_med_innbygger")
    assert message.body_format.value == "xhtml"
    assert message.body.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "<h1>Vaksine klar</h1>" in message.body
    assert message.subject == "Vaksinen ankommet"


def test_reply_carries_conversation() -> None:
    """A reply points to the message it answers and to the thread's first message."""
    message = _decoded("Dialog_med_innbygger_-_Svar_Helsepersonell_-_Dialog_avsluttet")
    assert message.conversation.parent == "459912ae-7d34-45f5-bf16-962638e00fa2"
    assert message.conversation.root == "e53d4f2c-8459-42d3-ab31-13974e3521af"


def test_planned_visits_reply_reads_quirks() -> None:
    """SvarPlanlagteTimer: statuses, employees, 'TjenesteId: 9', P30M and the empty interval."""
    message = _decoded("Bestilte_timer")
    assigned, planned, planned_other = message.appointments
    assert assigned.status is AppointmentStatus.ASSIGNED
    assert assigned.employees == ("Kari Jensen", "Ola Nordmann")
    assert assigned.service_id == "9"
    assert assigned.start == datetime.fromisoformat("2017-05-16T09:00:00+02:00")
    assert planned.status is AppointmentStatus.PLANNED
    assert planned.service_id == "2"
    assert planned.expected_duration.total_seconds() == 30 * 60
    assert planned.recurrence.frequency.value == "WEEKLY"
    assert planned.recurrence.interval == 1
    assert [d.value for d in planned.recurrence.by_day] == ["MO", "TU", "WE", "TH", "FR", "SA"]
    assert list(planned.recurrence.paused) == [
        datetime.fromisoformat("2017-05-26T09:00:00+02:00"),
        datetime.fromisoformat("2017-05-27T09:00:00+02:00"),
    ]
    assert planned_other.service_id == "12"
    assert any("P30M" in w for w in message.warnings)


def test_cancellation_request_reads_misspelt_type() -> None:
    """The official ART example's misspelt Type is read as Avtaleavbestilling, never written."""
    message = _decoded("Avbestill_reservert_time")
    assert message.process == "DIALOG_INNBYGGER_AVTALEAVBESTILLING"
    assert any("misspelt" in w for w in message.warnings)
    cancellation = message.cancellation
    assert cancellation.kind is CancellationKind.SINGLE
    assert cancellation.appointment_uid == "4088E990AD89CB3DBB484909"
    assert cancellation.series == "651b1341-26ca-11e4-8c21-0800200c9a66"
    assert cancellation.contact_her_id == "91095"
    assert cancellation.reason == "Har blitt syk og kan ikke møte til timen."
    assert b"AVTALEBESTILLING" not in encode(message)


@pytest.mark.parametrize(
    ("fragment", "decision"),
    [("Avbestilling_av_time_bekreftet.xml", CancellationOutcome.ACCEPTED),
     ("Time_kunne_ikke_avbestilles", CancellationOutcome.REJECTED)],
)
def test_cancellation_reply_decision(fragment: str, decision: CancellationOutcome) -> None:
    """08 is accepted, 09 rejected; an accepted answer's visit reads as cancelled."""
    (name,) = [n for n in NAMES if fragment in n and "AVTALEAVBESTILLING" in n]
    message = decode(official_example(name).read_bytes())
    assert message.decision is decision
    (appointment,) = message.appointments
    assert appointment.series == "651b1341-26ca-11e4-8c21-0800200c9a66"
    if decision is CancellationOutcome.ACCEPTED:
        assert appointment.status is AppointmentStatus.CANCELLED


def test_completed_visit_repairs_end_before_start() -> None:
    """The completed-visit example ends two years before it starts: repaired, with a warning."""
    message = _decoded("Melding_om_avtale")
    (visit,) = message.appointments
    assert visit.status is AppointmentStatus.COMPLETED
    assert visit.start == datetime.fromisoformat("2019-05-20T09:05:00+02:00")
    assert visit.end == datetime.fromisoformat("2019-05-20T10:05:00+02:00")
    assert visit.employees == ("Ola Nordmann",)
    assert visit.series == "A650C1AB-30BD-75C9-777C-62772D4C90BE"
    assert any("dtend before dtstart" in w for w in message.warnings)


def test_not_at_home_notice() -> None:
    """Avtaleutsending 11 is a visit cancelled because the citizen was not at home."""
    (visit,) = _decoded("Pasient_ikke_mott").appointments
    assert visit.status is AppointmentStatus.CANCELLED
    assert visit.cancellation_reason is CancellationReason.NOT_AT_HOME


def test_digital_status_examples() -> None:
    """SDAB 1/2 is active/inactive; SIDAB and 28 carry the person lists, without Patient."""
    assert _decoded("Aktiv.xml").digital_status is DigitalStatus.ACTIVE
    assert _decoded("Inaktiv.xml").digital_status is DigitalStatus.INACTIVE
    query = _decoded("Sjekk_om_innbyggere")
    assert query.patient is None
    assert [p.id for p in query.persons] == [
        "13116900216", "15076500565", "12057900499", "21016400952"]
    assert query.persons[3].middle_name == "Bjarne"
    assert [p.id for p in _decoded("Digitale_aktive_brukere_").persons] == [
        "15076500565", "21016400952"]
    assert _decoded("Ingen_digitale_brukere").persons == ()


def test_apprec_example() -> None:
    """The AppRec example: status OK, original message id and type, stray '>' in a name."""
    message = _decoded("AppRec_OK")
    assert message.receipt.status is ReceiptStatus.OK
    assert message.receipt.original_msg_id == "de1a95c0-4d0c-11e7-9598-0800200c9a66"
    assert message.receipt.original_process == "DIALOG_HELSEFAGLIG"
    assert message.sender.names == ("Kattskinnet legesenter",)
    assert message.receiver.her_ids == ("59", "90998")


def test_booking_confirmation_carries_its_appointment() -> None:
    """Avtaleutsending 05 "Timereservasjon bekreftet": the booked time, as an exact-time
    appointment (the VEVENT names no status), with its place and contact."""
    message = _decoded("Timereservasjon_bekreftet")
    (booked,) = message.appointments
    assert booked.uid == "8818f900-7882-4dbc-9aea-b187f41c2ded"
    assert booked.status is AppointmentStatus.ASSIGNED
    assert booked.start == datetime.fromisoformat("2019-06-01T11:45:00+02:00")
    assert booked.end == datetime.fromisoformat("2019-06-01T12:00:00+02:00")
    assert (booked.service_name, booked.location) == ("Allergitest", "Legegate 12C")
    assert booked.contact_her_id == "91095"
    assert message.warnings == ()


@pytest.mark.parametrize(
    ("fragment", "code", "text"),
    [("Attest_ferdigstilt", "17", "Ønsket attest er ferdigstilt og kan hentes på legekontor."),
     ("Attest_kan_ikke_utstedes", "18", "Ønsket attest kan dessverre ikke utstedes.")],
)
def test_attest_replies_answer_the_citizens_request(fragment: str, code: str, text: str) -> None:
    """eKontakt 17 (the attest is ready) and 18 (it cannot be issued) are answers in the
    thread of the citizen's Henvendelse, with the service's text."""
    message = _decoded(fragment)
    assert (message.function, message.code) == (Function.ATTEST_REPLY, code)
    assert message.body == text
    assert message.conversation is not None
    assert message.conversation.parent == "b6cd42ac-21d1-4706-b229-2d2697fcbb4f"
    assert message.patient is not None and message.patient.id == "13116900216"
