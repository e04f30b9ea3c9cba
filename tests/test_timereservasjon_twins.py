"""Timereservasjon 1.2 carries the Avtale function and AvbestillAvtale too (issue 9).

The national guide lets a service send appointment notices (``MOA``, ``05``,
``07``, ``08``, ``11``) and the portal send cancellations (``ART``, answered
``08``/``09``) under ``DIALOG_INNBYGGER_TIMERESERVASJON`` as well as under
their own processes. Each official example of Avtaleutsending and
Avtaleavbestilling, moved into Timereservasjon, must read as the same message
and be written back, valid under the official schemas, in Timereservasjon.
The two ``08`` s of Timereservasjon are told apart by their slot. Cancellations
and HentPlanlagteTimer are read with a proxy's Pasientrelasjon in both forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from lxml import etree

from digidialog.domain import AppointmentStatus, CancellationOutcome, CancellationReason, Relation
from digidialog.errors import SchemaViolation, UnsupportedProcess
from digidialog.helsenorge import Function, PortalMessage, Process, decode, encode, processes
from digidialog.helsenorge.names import DIALOG, MSGHEAD
from digidialog.helsenorge.processes import Slot, route_for, routes_for
from tests.hostile import edited, example
from tests.test_official_examples import NAMES

Validator = Callable[[bytes], list[str]]

AVTALEUTSENDING = [n for n in NAMES if n.startswith("DIALOG_INNBYGGER_AVTALEUTSENDING_")]
AVTALEAVBESTILLING = [n for n in NAMES if n.startswith("DIALOG_INNBYGGER_AVTALEAVBESTILLING_")]
TWINNED = AVTALEUTSENDING + AVTALEAVBESTILLING
ART = next(n for n in AVTALEAVBESTILLING if "Avbestill_reservert_time" in n)
HENT_PLANLAGTE = next(n for n in NAMES if "Hent_planlagte_timer" in n)
NOTICE_08 = next(n for n in AVTALEUTSENDING if "Avbestilling_av_time_bekreftet" in n)
REPLY_08 = next(n for n in AVTALEAVBESTILLING if "Avbestilling_av_time_bekreftet" in n)

_TYPE = re.compile(rb'<Type V="[A-Z_]+" DN="[^"]*"/>')
TIMERESERVASJON_TYPE = (b'<Type V="DIALOG_INNBYGGER_TIMERESERVASJON" '
                        b'DN="Dialog med innbygger - timereservasjon"/>')

PROXY_ID = "15076500565"
PASIENTRELASJON = f"""<Document><RefDoc><MsgType V="XML" DN="XML-instans"/><Content>
<pr:Pasientrelasjon xmlns:pr="http://www.kith.no/xmlstds/pasientrelasjon/2014-03-28"
                    xmlns:fk1="http://www.kith.no/xmlstds/felleskomponent1">
  <pr:Person><fk1:FamilyName>Danser</fk1:FamilyName><fk1:GivenName>Per</fk1:GivenName>
    <fk1:Ident><fk1:Id>{PROXY_ID}</fk1:Id>
      <fk1:TypeId V="FNR" S="2.16.578.1.12.4.1.1.8116" DN="Fødselsnummer"/></fk1:Ident>
  </pr:Person>
  <pr:Relasjon V="FU" S="2.16.578.1.12.4.1.1.7611" DN="Fullmakt"/>
</pr:Pasientrelasjon></Content></RefDoc></Document>""".encode()
"""A relative with a fullmakt, as the guide's skeleton has it (written by hand, not by us)."""


def in_timereservasjon(data: bytes) -> bytes:
    """The same message under MsgInfo/Type ``DIALOG_INNBYGGER_TIMERESERVASJON``."""
    moved, count = _TYPE.subn(TIMERESERVASJON_TYPE, data, count=1)
    assert count == 1, "the example has no MsgInfo/Type to move"
    return moved


def with_proxy(data: bytes) -> bytes:
    """The message with a Pasientrelasjon Document: a relative acts for the citizen."""
    return edited(data, b"</MsgHead>", PASIENTRELASJON + b"</MsgHead>")


def _slot_and_code(data: bytes) -> tuple[str, str | None]:
    root = etree.fromstring(data)
    code = next(root.iter(f"{{{DIALOG}}}TypeForesp", f"{{{DIALOG}}}TemaKodet"))
    parent = code.getparent()
    assert parent is not None
    return etree.QName(parent).localname, code.get("V")


def _type_of(data: bytes) -> str | None:
    found = etree.fromstring(data).find(f"{{{MSGHEAD}}}MsgInfo/{{{MSGHEAD}}}Type")
    assert found is not None
    return found.get("V")


def _same_but_process(left: PortalMessage, right: PortalMessage) -> None:
    assert left.model_dump(exclude={"process", "warnings"}) == \
        right.model_dump(exclude={"process", "warnings"})


# ---------------------------------------------------------------- the twins


@pytest.mark.parametrize("name", TWINNED)
def test_twin_in_timereservasjon_reads_as_the_same_message(name: str) -> None:
    """An Avtaleutsending or Avtaleavbestilling example moved into Timereservasjon decodes
    to the same function, code and domain objects, with no repair but the example's own."""
    original = decode(example(name))
    twin = decode(in_timereservasjon(example(name)))
    assert twin.process == Process.TIMERESERVASJON.value
    assert (twin.function, twin.code) == (original.function, original.code)
    _same_but_process(twin, original)
    assert twin.warnings == tuple(w for w in original.warnings if "misspelt" not in w)


@pytest.mark.parametrize("name", TWINNED)
def test_twin_is_written_back_in_timereservasjon(name: str, official_validate: Validator) -> None:
    """What a twin decodes to encodes under Timereservasjon, valid under the official
    schemas, with its code in the same slot as the original's, and reads back unchanged."""
    data = example(name)
    twin = decode(in_timereservasjon(data))
    written = encode(twin)
    assert official_validate(written) == []
    assert _type_of(written) == Process.TIMERESERVASJON.value
    assert _slot_and_code(written) == _slot_and_code(data)
    again = decode(written)
    assert again.warnings == ()
    assert again.model_dump(exclude={"warnings"}) == twin.model_dump(exclude={"warnings"})


def test_the_two_08s_of_timereservasjon_are_told_apart_by_their_slot() -> None:
    """In Timereservasjon a Foresporsel 08 is the service's notice that it cancelled a
    visit; a Notat 08 is the answer that a citizen's cancellation was accepted."""
    notice = decode(in_timereservasjon(example(NOTICE_08)))
    assert (notice.function, notice.code) == (Function.APPOINTMENT_NOTICE, "08")
    assert notice.decision is None
    (visit,) = notice.appointments
    assert visit.status is AppointmentStatus.CANCELLED
    assert visit.cancellation_reason is CancellationReason.BY_SERVICE
    answer = decode(in_timereservasjon(example(REPLY_08)))
    assert (answer.function, answer.code) == (Function.CANCELLATION_REPLY, "08")
    assert answer.decision is CancellationOutcome.ACCEPTED


def test_routes_are_one_per_slot_and_one_per_function() -> None:
    """No two routes share process, slot and code (what reading sees) or process, function
    and code (what writing names): neither look-up can pick the wrong one."""
    routes = processes._routes()
    assert len({(r.process, r.slot, r.code) for r in routes}) == len(routes)
    assert len({(r.process, r.function, r.code) for r in routes}) == len(routes)
    assert set(processes.ROUTES.values()) == set(routes)


def test_route_look_up_needs_the_slot_or_the_function_where_a_code_has_two() -> None:
    """Timereservasjon 08 has two routes; named by slot (reading) or by function (writing)
    each is found, and a code alone is refused as ambiguous rather than guessed."""
    process = Process.TIMERESERVASJON
    assert {r.function for r in routes_for(process, "08")} == {
        Function.APPOINTMENT_NOTICE, Function.CANCELLATION_REPLY}
    assert route_for(process, "08", slot=Slot.FORESPORSEL).function is \
        Function.APPOINTMENT_NOTICE
    assert route_for(process, "08", slot=Slot.NOTAT).function is Function.CANCELLATION_REPLY
    assert route_for(process, "08", function=Function.CANCELLATION_REPLY).slot is Slot.NOTAT
    with pytest.raises(ValueError, match="ambiguous"):
        route_for(process, "08")
    with pytest.raises(SchemaViolation, match="in a Foresporsel, not cancellation_reply"):
        route_for(Process.AVTALEUTSENDING, "08", function=Function.CANCELLATION_REPLY)
    with pytest.raises(UnsupportedProcess, match="with code 'ART' is not served"):
        route_for(Process.EKONTAKT, "ART")


def test_a_code_in_the_wrong_slot_is_refused() -> None:
    """An Avtaleutsending 08 written as a Notat is not the notice the process serves:
    refused (T02) naming where the code belongs, never read as something else."""
    data = example(NOTICE_08)
    for old, new in ((b"<Foresporsel>", b"<Notat>"), (b"</Foresporsel>", b"</Notat>"),
                     (b"<TypeForesp ", b"<TemaKodet ")):
        data = edited(data, old, new)
    with pytest.raises(SchemaViolation, match="appointment_notice in a Foresporsel, "
                                              "not in a Notat") as refused:
        decode(data)
    assert refused.value.apprec_code == "T02"


# ---------------------------------------------------------------- cancellations and proxies


@pytest.mark.parametrize("proxy", [False, True], ids=["citizen", "proxy"])
def test_art_in_timereservasjon_is_the_same_cancellation_request(
    proxy: bool, official_validate: Validator
) -> None:
    """The official ART, as AvbestillAvtale in Timereservasjon and in Avtaleavbestilling,
    by the citizen or by a relative with a fullmakt: the same CancellationRequest, whose
    ``requested_by`` is the relative; both are valid under the official schemas."""
    data = with_proxy(example(ART)) if proxy else example(ART)
    twin_data = in_timereservasjon(data)
    assert official_validate(twin_data) == []
    original, twin = decode(data), decode(twin_data)
    assert twin.function is Function.CANCELLATION_REQUEST
    assert twin.cancellation == original.cancellation
    assert twin.cancellation is not None
    assert twin.cancellation.appointment_uid == "4088E990AD89CB3DBB484909"
    if proxy:
        assert twin.on_behalf_of is not None and twin.on_behalf_of.id == PROXY_ID
        assert twin.on_behalf_of.relation is Relation.FULLMAKT
        requested_by = twin.cancellation.requested_by
        assert requested_by is not None and requested_by.person.national_id == PROXY_ID
    else:
        assert twin.on_behalf_of is None and twin.cancellation.requested_by is None
    written = encode(twin)
    assert official_validate(written) == []
    assert decode(written).cancellation == original.cancellation


@pytest.mark.parametrize("code", ["HLT", "HBT"])
@pytest.mark.parametrize("proxy", [False, True], ids=["citizen", "proxy"])
def test_planned_appointments_request_is_read_with_either_code_and_a_proxy(
    code: str, proxy: bool, official_validate: Validator
) -> None:
    """HentPlanlagteTimer as the guide writes it (HBT) and as the official example does
    (HLT, read as HBT with a warning), by the citizen or a relative viewing the calendar."""
    data = example(HENT_PLANLAGTE)
    if code == "HBT":
        data = edited(data, b'V="HLT" S="2.16.578.1.12.4.1.1.7601" DN="Hent ledige timer"',
                      b'V="HBT" S="2.16.578.1.12.4.1.1.7601" DN="Hent bestilte timer"')
    if proxy:
        data = with_proxy(data)
    assert official_validate(data) == []
    message = decode(data)
    assert (message.function, message.code) == (Function.PLANNED_APPOINTMENTS_REQUEST, "HBT")
    assert bool(message.warnings) is (code == "HLT")
    assert (message.on_behalf_of is not None) is proxy
    if proxy:
        assert message.on_behalf_of is not None
        assert (message.on_behalf_of.id, message.on_behalf_of.relation) == (
            PROXY_ID, Relation.FULLMAKT)
    assert official_validate(encode(message)) == []
