"""Property: every message digidialog writes reads back as the same message, and is valid.

For every served (process, code) route and for receipts, hypothesis builds
:class:`PortalMessage` values (see ``tests/strategies.py``) and checks that
``decode(encode(m)) == m`` with no warnings, that the JSON form survives too,
that encoding what was decoded gives the same bytes, and that the bytes
validate against the OFFICIAL national schemas (``shared/tools/refcheck.py``,
through the ``official_validate`` fixture, which skips when it is absent).
Focused properties then pin down the hard cases: daylight-saving changes,
recurrences, national ids, non-Latin-1 text, XHTML bodies, proxies,
cancellations, interim replies, authors, conversation refs and attachments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    BodyFormat,
    CancellationKind,
    CancellationRequest,
    IdKind,
    Recurrence,
    inspect_national_id,
)
from digidialog.domain.attachments import Attachment
from digidialog.domain.timezone import OSLO, is_second_occurrence
from digidialog.errors import SchemaViolation
from digidialog.helsenorge import (
    Conversation,
    Function,
    Party,
    Patient,
    PortalMessage,
    Process,
    Representative,
    decode,
    encode,
)
from digidialog.helsenorge.encoder import carries
from digidialog.helsenorge.names import DIALOG, MSGHEAD, PASIENTRELASJON, XCAL
from digidialog.helsenorge.processes import ROUTES, Route, Slot, route_for
from digidialog.helsenorge.xcal import CANCELLATION_PERIOD
from tests.strategies import (
    ALL_ROUTES,
    K1_WEIGHTS,
    K2_WEIGHTS,
    SAMI_AND_FRIENDS,
    appointments,
    attachments,
    cancellations,
    conversations,
    mod11_check_digit,
    national_ids,
    patients,
    person_names,
    portal_messages,
    receipt_messages,
    recurrences,
    representatives,
    route_id,
    route_messages,
    xhtml_bodies,
    xml_text,
)

Validator = Callable[[bytes], list[str]]

# Sized so that the whole file runs in well under a minute on two cores.
PER_ROUTE = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FOCUSED = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PLANNED_REPLY = route_for(Process.TIMERESERVASJON, "01")
CITIZEN_MESSAGE = route_for(Process.EKONTAKT, "HE")
SERVICE_REPLY = route_for(Process.EKONTAKT, "19")
CANCELLATION_ROUTES = [r for r in ALL_ROUTES if r.function is Function.CANCELLATION_REQUEST]
# Routes whose Dialogmelding carries subject, body and author (ART's text is its reason).
TEXT_ROUTES = [
    r for r in ALL_ROUTES
    if r.slot is not Slot.NONE and r.function is not Function.CANCELLATION_REQUEST
]


def round_trip(message: PortalMessage, official_validate: Validator) -> tuple[bytes, PortalMessage]:
    """Encode, check against the official schemas, decode, and compare."""
    data = encode(message)
    errors = official_validate(data)
    assert errors == [], f"not valid under the official schemas: {errors[:3]}"
    decoded = decode(data)
    assert decoded.warnings == ()
    assert decoded == message
    # Appointments are built without pydantic's validation (digidialog.modelbuild):
    # validating what was decoded must change nothing.
    assert PortalMessage.model_validate(decoded.model_dump()) == decoded
    # The JSON form (what `digidialog decode` prints) shows each instant on the Oslo
    # clock with its offset, so it also tells the two passes of the autumn hour apart,
    # whatever time zone the models happen to hold.
    assert decoded.model_dump(mode="json") == message.model_dump(mode="json")
    return data, decoded


def _all(data: bytes, namespace: str, local: str) -> list[etree._Element]:
    return list(etree.fromstring(data).iter(f"{{{namespace}}}{local}"))


def _with(message: PortalMessage, **fields: object) -> PortalMessage:
    """A validated copy (model_copy(update=...) would skip validation)."""
    return PortalMessage.model_validate({**dict(message), **fields})


# ---------------------------------------------------------------- every kind of message


def test_every_function_is_served_by_a_route() -> None:
    """Every Function is carried by at least one route (receipts by AppRec), so the
    per-route property below covers every kind of message."""
    assert {route.function for route in ALL_ROUTES} | {Function.RECEIPT} == set(Function)
    assert set(ALL_ROUTES) == set(ROUTES.values())


@pytest.mark.parametrize("route", [*ALL_ROUTES, None], ids=[*map(route_id, ALL_ROUTES), "APPREC"])
@PER_ROUTE
@given(data=st.data())
def test_each_route_round_trips(
    route: Route | None, data: st.DataObject, official_validate: Validator
) -> None:
    """For every (process, code) route and for AppRec: decode(encode(m)) == m with no
    warnings, the bytes are valid under the official schemas and name the route's
    process and code, and encoding the decoded message gives the same bytes (except for
    period cancellations, whose VEVENTs get fresh uids on every encoding)."""
    message = data.draw(route_messages(route) if route is not None else receipt_messages())
    encoded, decoded = round_trip(message, official_validate)
    root = etree.fromstring(encoded)
    if route is None:
        assert etree.QName(root).localname == "AppRec"
    else:
        type_element = root.find(f"{{{MSGHEAD}}}MsgInfo/{{{MSGHEAD}}}Type")
        assert type_element is not None
        assert type_element.get("V") == route.process.value
        codes = [
            e.get("V") for e in root.iter(f"{{{DIALOG}}}TypeForesp", f"{{{DIALOG}}}TemaKodet")
        ]
        assert codes == ([] if route.slot is Slot.NONE else [route.code])
    cancellation = message.cancellation
    if cancellation is None or cancellation.kind is not CancellationKind.PERIOD:
        assert encode(decoded) == encoded


@FOCUSED
@given(message=portal_messages())
def test_any_message_round_trips(message: PortalMessage, official_validate: Validator) -> None:
    """A message of any kind, drawn across all routes and receipts at once, round-trips
    and validates (the strategy others import works as a whole)."""
    round_trip(message, official_validate)


# ---------------------------------------------------------------- time

PLUS_1 = timezone(timedelta(hours=1))
PLUS_2 = timezone(timedelta(hours=2))
SPRING_START = datetime(2026, 3, 29, 1, 30, tzinfo=PLUS_1)
SPRING_END = datetime(2026, 3, 29, 4, 0, tzinfo=PLUS_2)
AUTUMN_FIRST_PASS = datetime(2026, 10, 25, 2, 30, tzinfo=PLUS_2)
AUTUMN_SECOND_PASS = datetime(2026, 10, 25, 2, 30, tzinfo=PLUS_1)

CITIZEN = Patient(id="13116900216", given_name="Áile", family_name="Ŋuvttos")
MUNICIPALITY = Party(her_ids=("87688", "95316"), names=("Guovdageainnu suohkan", "Ruoktobálvalus"))
HELSENORGE = Party(her_ids=("115851", "8093248"), names=("Direktoratet for e-helse", "Helsenorge"))
BASE_REPLY = PortalMessage(
    process=Process.TIMERESERVASJON.value,
    function=Function.PLANNED_APPOINTMENTS_REPLY,
    code="01",
    msg_id="3f1c3c3e-8a57-4d0c-9a57-5b0c7b1f1a01",
    generated_at=AUTUMN_SECOND_PASS,
    conversation=Conversation(
        parent="0b6f5a53-2d6c-4f4e-9d8e-8a1e1b1c9f10", root="0b6f5a53-2d6c-4f4e-9d8e-8a1e1b1c9f10"
    ),
    sender=MUNICIPALITY,
    receiver=HELSENORGE,
    patient=CITIZEN,
    appointments=(
        Appointment(uid="u", status=AppointmentStatus.ASSIGNED, start=SPRING_START, end=SPRING_END),
    ),
)


def _visit(start: datetime, end: datetime, status: AppointmentStatus) -> Appointment:
    return Appointment(uid=f"besøk-{status.value}", status=status, start=start, end=end,
                       service_id="12", service_name="Hjemmesykepleie")


@PER_ROUTE
@given(base=route_messages(PLANNED_REPLY), visits=st.lists(appointments(), min_size=1, max_size=3))
@example(base=BASE_REPLY, visits=[_visit(SPRING_START, SPRING_END, AppointmentStatus.ASSIGNED)])
@example(
    base=BASE_REPLY,
    visits=[
        _visit(AUTUMN_FIRST_PASS, AUTUMN_SECOND_PASS, AppointmentStatus.PLANNED),
        _visit(AUTUMN_SECOND_PASS, AUTUMN_SECOND_PASS + timedelta(minutes=20),
               AppointmentStatus.CANCELLED),
        # The same instants on the Oslo zoneinfo clock (fold 0 and fold 1).
        _visit(AUTUMN_FIRST_PASS.astimezone(OSLO), AUTUMN_SECOND_PASS.astimezone(OSLO),
               AppointmentStatus.COMPLETED),
    ],
)
def test_appointments_keep_their_instants_across_dst(
    base: PortalMessage, visits: list[Appointment], official_validate: Validator
) -> None:
    """Appointment times survive daylight-saving changes as the same instants: a visit
    across the skipped spring hour keeps its length, and the two passes through the
    repeated autumn hour stay apart. Instants in the second pass are written in UTC
    (``...Z``), every other one as Oslo wall-clock time without an offset."""
    message = _with(base, appointments=tuple(visits))
    encoded, decoded = round_trip(message, official_validate)
    for sent, got in zip(message.appointments, decoded.appointments, strict=True):
        assert got.start.astimezone(UTC) == sent.start.astimezone(UTC)
        assert got.end.astimezone(UTC) - got.start.astimezone(UTC) == (
            sent.end.astimezone(UTC) - sent.start.astimezone(UTC)
        )
    starts = [
        value.findtext(f"{{{XCAL}}}date-time") or ""
        for value in _all(encoded, XCAL, "dtstart")
    ]
    assert len(starts) == len(visits)
    for text, visit in zip(starts, message.appointments, strict=True):
        assert text.endswith("Z") == is_second_occurrence(visit.start)
        clock = UTC if text.endswith("Z") else OSLO
        assert datetime.fromisoformat(text.removesuffix("Z")) == (
            visit.start.astimezone(clock).replace(tzinfo=None)
        )


def _recurring(visit: Appointment, recurrence: Recurrence) -> Appointment:
    return Appointment.model_validate({**dict(visit), "recurrence": recurrence})


@FOCUSED
@given(
    visit=st.builds(_recurring, appointments(AppointmentStatus.PLANNED), recurrences()),
    base=route_messages(PLANNED_REPLY),
)
def test_recurrences_round_trip(
    visit: Appointment, base: PortalMessage, official_validate: Validator
) -> None:
    """A planned series keeps its frequency, interval, weekdays, until or count, and
    every paused occurrence (one exdate each, in order, as the same instants)."""
    _, decoded = round_trip(_with(base, appointments=(visit,)), official_validate)
    got, sent = decoded.appointments[0].recurrence, visit.recurrence
    assert got is not None and sent is not None
    assert (got.frequency, got.interval, got.by_day, got.until, got.count) == (
        sent.frequency, sent.interval, sent.by_day, sent.until, sent.count
    )
    assert [p.astimezone(UTC) for p in got.paused] == [p.astimezone(UTC) for p in sent.paused]


# ---------------------------------------------------------------- people


@FOCUSED
@given(kind=st.sampled_from(IdKind), data=st.data())
def test_generated_national_ids_are_valid(kind: IdKind, data: st.DataObject) -> None:
    """Generated ids have both mod-11 check digits right and are accepted by the domain
    as the kind asked for: a D-number has 4 added to the first digit of the day."""
    national_id = data.draw(national_ids(kind, synthetic=None))
    assert len(national_id) == 11 and national_id.isascii() and national_id.isdigit()
    assert mod11_check_digit(national_id[:9], K1_WEIGHTS) == int(national_id[9])
    assert mod11_check_digit(national_id[:10], K2_WEIGHTS) == int(national_id[10])
    facts = inspect_national_id(national_id)
    assert facts.kind is kind
    assert (int(national_id[0]) >= 4) == (kind is IdKind.DNR)
    assert facts.birth_date.day == int(national_id[:2]) - (40 if kind is IdKind.DNR else 0)
    assert date(1854, 1, 1) <= facts.birth_date <= date(2039, 12, 31)


@FOCUSED
@given(kind=st.sampled_from(IdKind), patient=patients(), data=st.data())
def test_fnr_and_d_numbers_round_trip_with_their_type(
    kind: IdKind, patient: Patient, data: st.DataObject, official_validate: Validator
) -> None:
    """A citizen with a fødselsnummer or a D-number comes back with the same id, and
    the Patient ident is typed FNR or DNR accordingly."""
    patient = Patient.model_validate({**dict(patient), "id": data.draw(national_ids(kind))})
    message = data.draw(route_messages(CITIZEN_MESSAGE, patient=st.just(patient)))
    encoded, decoded = round_trip(message, official_validate)
    assert decoded.patient == patient
    type_ids = [
        ident.find(f"{{{MSGHEAD}}}TypeId") for ident in _all(encoded, MSGHEAD, "Ident")
        if ident.findtext(f"{{{MSGHEAD}}}Id") == patient.id
    ]
    assert [t.get("V") for t in type_ids if t is not None] == [kind.value]


SAMI_TEXT = st.text(alphabet=SAMI_AND_FRIENDS.replace("\u200b", ""), min_size=1, max_size=8)


@FOCUSED
@given(
    given_name=SAMI_TEXT, family_name=SAMI_TEXT, text=SAMI_TEXT,
    patient=patients(), base=route_messages(CITIZEN_MESSAGE),
)
def test_sami_and_non_latin1_text_is_written_as_utf8(
    given_name: str, family_name: str, text: str, patient: Patient, base: PortalMessage,
    official_validate: Validator,
) -> None:
    """Sámi, Cyrillic, CJK and emoji in names, subject and body come back unchanged,
    written as UTF-8 characters rather than numeric character references."""
    patient = Patient.model_validate(
        {**dict(patient), "given_name": given_name, "family_name": family_name}
    )
    message = _with(base, patient=patient, subject=text, body=text, body_format=BodyFormat.TEXT)
    encoded, decoded = round_trip(message, official_validate)
    assert (decoded.patient, decoded.subject, decoded.body) == (patient, text, text)
    for value in (given_name, family_name, text):
        assert value.encode("utf-8") in encoded
    assert b"&#" not in encoded


@FOCUSED
@given(
    proxy=representatives(),
    route=st.sampled_from([r for r in ALL_ROUTES if carries(r.function, "on_behalf_of")]),
    data=st.data(),
)
def test_proxies_round_trip(
    proxy: Representative, route: Route, data: st.DataObject, official_validate: Validator
) -> None:
    """A relative acting "på vegne av" the citizen (fullmakt FU, foreldreansvar FO,
    verge VE) comes back whole, from a Pasientrelasjon document with that relation, on
    every route the citizen's side writes."""
    message = data.draw(route_messages(route, on_behalf_of=st.just(proxy)))
    encoded, decoded = round_trip(message, official_validate)
    assert decoded.on_behalf_of == proxy
    relations = [e.get("V") for e in _all(encoded, PASIENTRELASJON, "Relasjon")]
    assert relations == [proxy.relation.value]


@FOCUSED
@given(author=person_names(), route=st.sampled_from(TEXT_ROUTES), data=st.data())
def test_authors_round_trip(
    author: str, route: Route, data: st.DataObject, official_validate: Validator
) -> None:
    """The staff member named as Forfatter comes back as the same name: the last word
    is written as the family name and the words before it as the given name."""
    message = data.draw(route_messages(route, author=st.just(author)))
    encoded, decoded = round_trip(message, official_validate)
    assert decoded.author == author
    family = [e.text for e in _all(encoded, DIALOG, "FamilyName")]
    given_names = [e.text for e in _all(encoded, DIALOG, "GivenName")]
    *first, last = author.split(" ")
    assert (given_names, family) == (([" ".join(first)], [last]) if first else ([last], []))


# ---------------------------------------------------------------- message content


@FOCUSED
@given(body=xhtml_bodies(), route=st.sampled_from(TEXT_ROUTES), data=st.data())
def test_xhtml_bodies_round_trip_verbatim(
    body: str, route: Route, data: st.DataObject, official_validate: Validator
) -> None:
    """An XHTML body (one div in the XHTML namespace, in lxml's serialisation) comes back
    as the identical string, carried as markup rather than as escaped text."""
    message = data.draw(route_messages(
        route, body=st.just(body), body_format=st.just(BodyFormat.XHTML)
    ))
    encoded, decoded = round_trip(message, official_validate)
    assert (decoded.body, decoded.body_format) == (body, BodyFormat.XHTML)
    holders = _all(encoded, DIALOG, "Sporsmal") + _all(encoded, DIALOG, "TekstNotatInnhold")
    assert len(holders) == 1
    assert [etree.QName(c).localname for c in holders[0]] == ["div"]


@FOCUSED
@given(
    kind=st.sampled_from(CancellationKind),
    route=st.sampled_from(CANCELLATION_ROUTES),
    data=st.data(),
)
def test_cancellations_round_trip(
    kind: CancellationKind, route: Route, data: st.DataObject, official_validate: Validator
) -> None:
    """A single cancellation comes back with its uid, series and service; a period one
    with its start, end and every service, written as one VEVENT per service with
    category Avbestillingsperiode and a uid of its own."""
    cancellation: CancellationRequest = data.draw(cancellations(kind))
    message = data.draw(route_messages(route, cancellation=st.just(cancellation)))
    encoded, decoded = round_trip(message, official_validate)
    assert decoded.cancellation == cancellation
    events = _all(encoded, XCAL, "vevent")
    uids = [e.findtext(f".//{{{XCAL}}}uid/{{{XCAL}}}text") for e in events]
    categories = [
        [t.text for t in e.iterfind(f".//{{{XCAL}}}categories/{{{XCAL}}}text")] for e in events
    ]
    if kind is CancellationKind.PERIOD:
        assert len(events) == len(cancellation.service_ids) >= 1
        assert len(set(uids)) == len(uids)
        assert all(CANCELLATION_PERIOD in c for c in categories)
    else:
        assert uids == [cancellation.appointment_uid]
        assert not any(CANCELLATION_PERIOD in c for c in categories)


@FOCUSED
@given(interim=st.booleans(), base=route_messages(SERVICE_REPLY))
def test_interim_replies_round_trip(
    interim: bool, base: PortalMessage, official_validate: Validator
) -> None:
    """A service reply marked interim (a full answer will follow) keeps the mark, written
    as the Notat remark "Foreløpig svar"; a full reply carries no remark."""
    encoded, decoded = round_trip(_with(base, interim=interim), official_validate)
    assert decoded.interim is interim
    remarks = [e.text for e in _all(encoded, DIALOG, "Merknad")]
    assert remarks == (["Foreløpig svar"] if interim else [])


@FOCUSED
@given(conversation=conversations(), route=st.sampled_from(ALL_ROUTES), data=st.data())
def test_conversation_refs_round_trip(
    conversation: Conversation, route: Route, data: st.DataObject, official_validate: Validator
) -> None:
    """RefToParent and RefToConversation come back unchanged on every route."""
    message = data.draw(route_messages(route, conversation=st.just(conversation)))
    encoded, decoded = round_trip(message, official_validate)
    assert decoded.conversation == conversation
    assert [e.text for e in _all(encoded, MSGHEAD, "RefToParent")] == [conversation.parent]
    assert [e.text for e in _all(encoded, MSGHEAD, "RefToConversation")] == [conversation.root]


@FOCUSED
@given(files=st.lists(attachments(), min_size=1, max_size=3), base=route_messages(CITIZEN_MESSAGE))
def test_attachments_round_trip(
    files: list[Attachment], base: PortalMessage, official_validate: Validator
) -> None:
    """Attached files come back byte for byte, in order, with their MIME type and
    description, each in a Document of its own (MsgType A)."""
    message = _with(base, attachments=tuple(files))
    encoded, decoded = round_trip(message, official_validate)
    assert [a.data for a in decoded.attachments] == [a.data for a in message.attachments]
    kinds = [e.get("V") for e in _all(encoded, MSGHEAD, "MsgType")]
    assert kinds.count("A") == len(files)


_NOT_CARRIED: list[tuple[Function, str, st.SearchStrategy[object]]] = [
    (Function.SERVICE_REPLY, "on_behalf_of", representatives()),
    (Function.CITIZEN_MESSAGE, "interim", st.just(True)),
    (Function.CITIZEN_MESSAGE, "appointments", st.tuples(appointments())),
    (Function.DIGITAL_STATUS_CHANGE, "persons", st.tuples(patients())),
    (Function.SERVICE_OVERVIEW, "body", xml_text(min_size=1)),
]


@pytest.mark.parametrize(("function", "field", "values"), _NOT_CARRIED,
                         ids=[f"{f.value}-{name}" for f, name, _ in _NOT_CARRIED])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_data_a_function_cannot_carry_is_refused(
    function: Function, field: str, values: st.SearchStrategy[object], data: st.DataObject
) -> None:
    """encode refuses data its function does not carry, rather than dropping it silently."""
    route = next(r for r in ALL_ROUTES if r.function is function)
    message = data.draw(route_messages(route))
    with pytest.raises(SchemaViolation, match=f"does not carry {field}"):
        encode(message.model_copy(update={field: data.draw(values)}))
