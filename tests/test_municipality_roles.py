"""Which functions a municipality receives, and how it refuses the others (issue 9).

digidialog reads every function of the processes it serves, but a
municipality acts only on what the portal (role Innbygger) sends. For every
other route, the refusal the codec names must be one the engine can write:
a ``26`` in the message's own process and thread, valid under the official
schemas (without a patient where the message had none), or, where the process
has no Dialogmelding refusal, the AppRec code ``T10``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digidialog.helsenorge import Function, Process, decode, encode
from digidialog.helsenorge.processes import Route, Slot
from digidialog.helsenorge.roles import (
    MUNICIPALITY_RECEIVES,
    NOT_RECEIVED_APPREC,
    REFUSED,
    received_by_municipality,
    refusal_route,
)
from digidialog.sync import outgoing
from tests.strategies import ALL_ROUTES, route_id, route_messages

Validator = Callable[[bytes], list[str]]
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)

NOT_RECEIVED = [r for r in ALL_ROUTES if not received_by_municipality(r.function)]
WITHOUT_REFUSAL = {Process.AVTALEUTSENDING, Process.TJENESTEOVERSIKT, Process.APPREC}


def test_a_municipality_receives_what_the_portal_sends_and_nothing_else() -> None:
    """The citizen's side: messages, answers, refusals, HentPlanlagteTimer, cancellations,
    status changes and answers, receipts. What a service writes it never receives."""
    assert {
        Function.CITIZEN_MESSAGE, Function.CITIZEN_REPLY, Function.REFUSAL,
        Function.PLANNED_APPOINTMENTS_REQUEST, Function.CANCELLATION_REQUEST,
        Function.DIGITAL_STATUS_CHANGE, Function.DIGITAL_STATUS_REPLY, Function.RECEIPT,
    } == MUNICIPALITY_RECEIVES
    for function in (Function.APPOINTMENT_NOTICE, Function.BOOKING_CONFIRMATION,
                     Function.ATTEST_REPLY, Function.SERVICE_REPLY, Function.CANCELLATION_REPLY,
                     Function.PLANNED_APPOINTMENTS_REPLY, Function.DIGITAL_STATUS_QUERY,
                     Function.SERVICE_OVERVIEW):
        assert not received_by_municipality(function), function


@pytest.mark.parametrize("process", list(Process))
def test_each_process_has_its_refusal(process: Process) -> None:
    """A 26 Notat where the process has Dialogmelding refusals; none (AppRec T10) where the
    portal answers only with an AppRec. The process's name as a string finds the same."""
    route = refusal_route(process)
    if process in WITHOUT_REFUSAL:
        assert route is None
        assert refusal_route(process.value) is None
        return
    assert route is not None
    assert (route.process, route.function, route.slot, route.code) == (
        process, Function.REFUSAL, Slot.NOTAT, REFUSED)
    assert refusal_route(process.value) is route
    assert refusal_route("DIALOG_INNBYGGER_RESEPTFORNYELSE") is None
    assert NOT_RECEIVED_APPREC == "T10"


@pytest.mark.parametrize("route", NOT_RECEIVED, ids=list(map(route_id, NOT_RECEIVED)))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_a_municipality_never_receives_can_be_refused_in_its_process(
    route: Route, data: st.DataObject, official_validate: Validator
) -> None:
    """Any message on a route a municipality does not receive gets a refusal that encodes,
    passes the official schemas, and answers it in its own process and thread."""
    message = data.draw(route_messages(route))
    refusal_of = refusal_route(message.process)
    if refusal_of is None:
        assert route.process in WITHOUT_REFUSAL
        return
    refusal = outgoing.refusal(message, NOW, "Kommunen tar ikke imot denne typen melding.",
                               process=refusal_of.process)
    written = encode(refusal)
    assert official_validate(written) == []
    read = decode(written)
    assert (read.process, read.function, read.code) == (
        route.process.value, Function.REFUSAL, REFUSED)
    assert read.conversation is not None and read.conversation.parent == message.msg_id
    assert read.patient == message.patient
