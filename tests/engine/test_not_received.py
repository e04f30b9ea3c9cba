"""What only a service sends is refused, the way its process allows (issue 9).

A municipality reads every function of the processes it serves, but acts only
on what the portal sends. An appointment notice (the Avtale function, in
Timereservasjon or Avtaleutsending), a booking confirmation (05), an attest
answer (17/18), a cancellation answer or a status query that reaches its queue
is answered, not parked and not delivered to the EPJ: with its AppRec and a
``26`` in its own process and thread where the process has one, or else (an
Avtaleutsending, which the portal answers with an AppRec only) with a negative
AppRec ``T10``. The input is vendor-independent, so one vendor runs it, on
both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from digidialog.helsenorge import Conversation, Function, PortalMessage, Process, decode
from digidialog.testing.portal import Received
from tests.engine.addressing import addressed
from tests.engine.conftest import BACKENDS
from tests.engine.world import World, eventually, world
from tests.hostile import example
from tests.test_official_examples import NAMES
from tests.test_timereservasjon_twins import in_timereservasjon

ANSWER_SECONDS = 15.0


def _named(fragment: str, process: str = "") -> bytes:
    (name,) = [n for n in NAMES if fragment in n and n.startswith(process)]
    return example(name)


MOA = "Melding_om_avtale"
NOTICE_08 = "Avtaleutsending_-_Helsepersonell_-_Avbestilling_av_time_bekreftet"
BOOKED = "Timereservasjon_bekreftet"
REJECTED_09 = "Time_kunne_ikke_avbestilles"
SIDAB = "Sjekk_om_innbyggere_er_digitalt_aktive_brukere"

REFUSED_IN_PROCESS: dict[str, tuple[Callable[[], bytes], Process]] = {
    "timereservasjon-moa": (lambda: in_timereservasjon(_named(MOA)), Process.TIMERESERVASJON),
    "timereservasjon-08-notice": (lambda: in_timereservasjon(_named(NOTICE_08)),
                                  Process.TIMERESERVASJON),
    "timereservasjon-05": (lambda: in_timereservasjon(_named(BOOKED)), Process.TIMERESERVASJON),
    "ekontakt-attest-17": (lambda: _named("Attest_ferdigstilt"), Process.EKONTAKT),
    "ekontakt-attest-18": (lambda: _named("Attest_kan_ikke_utstedes"), Process.EKONTAKT),
    "avtaleavbestilling-09": (lambda: _named(REJECTED_09), Process.AVTALEAVBESTILLING),
    "digitalbruker-sidab": (lambda: _named(SIDAB), Process.DIGITALBRUKER),
}
"""Official examples (some moved into Timereservasjon) whose process answers with a 26."""

REFUSED_BY_APPREC: dict[str, Callable[[], bytes]] = {
    "avtaleutsending-moa": lambda: _named(MOA),
    "avtaleutsending-05": lambda: _named(BOOKED, "DIALOG_INNBYGGER_AVTALEUTSENDING"),
}
"""Avtaleutsending: the portal's side answers with an AppRec only, so a refusal is one."""


@pytest.fixture(scope="module", params=BACKENDS)
def gerica(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One started world per backend, shared by the cases."""
    with world("gerica", str(request.param), tmp_path_factory.mktemp("not-received")) as started:
        yield started


def from_the_portal(world: World, data: bytes) -> PortalMessage:
    """An official example as the world's portal sends it to the municipality's service."""
    message = decode(addressed(data, world))
    if message.conversation is None:
        return message
    # An answer (17/18, 09) goes into a thread the portal opened, about that thread's citizen.
    opened = world.portal.send_citizen_message(world.municipality, world.service,
                                               world.citizens[0])
    assert opened.message is not None and opened.msg_id is not None
    return PortalMessage.model_validate({
        **dict(message), "warnings": (), "patient": opened.message.patient,
        "conversation": Conversation(parent=opened.msg_id, root=opened.msg_id),
    })


def refusals_of(world: World, msg_id: str) -> list[Received]:
    """The refusals the engine sent in answer to ``msg_id``."""
    return [r for r in world.portal.received(Function.REFUSAL)
            if r.message.conversation is not None and r.message.conversation.parent == msg_id]


def assert_nothing_else_happened(world: World, msg_id: str) -> None:
    """Nothing reached the EPJ or was parked, and every rule of the portal held."""
    assert msg_id not in {m["message_id"] for m in world.harness.delivered_messages()}
    assert world.store.dead_letters.count(world.municipality) == 0, [
        d.reason for d in world.store.dead_letters.list(world.municipality)]
    world.portal.assert_no_violations()


@pytest.mark.parametrize("case", list(REFUSED_IN_PROCESS))
def test_a_function_only_a_service_sends_is_answered_26_in_its_process(
        gerica: World, case: str) -> None:
    """The message gets its AppRec OK (it was read) and one 26 "Forespørsel avvist" in its
    own process, answering it in its thread; a status query, which names no citizen, is
    refused without one."""
    world = gerica
    build, process = REFUSED_IN_PROCESS[case]
    message = from_the_portal(world, build())
    world.portal.send_message(message)
    receipt = world.portal.wait_for_receipt(message.msg_id, timeout=ANSWER_SECONDS)
    assert receipt.message.receipt is not None
    assert receipt.message.receipt.status.value == "ok"
    (refusal,) = eventually(lambda: refusals_of(world, message.msg_id), ANSWER_SECONDS,
                            what=f"the 26 answering {case}")
    answer = refusal.message
    assert (answer.process, answer.code) == (process.value, "26")
    assert answer.conversation is not None
    root = message.conversation.root if message.conversation else message.msg_id
    assert answer.conversation.root == root
    assert answer.patient == message.patient
    assert answer.sender.her_ids[0] == world.municipality
    assert refusal.envelope.subject == process.value
    assert_nothing_else_happened(world, message.msg_id)


@pytest.mark.parametrize("case", list(REFUSED_BY_APPREC))
def test_an_avtaleutsending_is_refused_with_apprec_t10(gerica: World, case: str) -> None:
    """Avtaleutsending has no answer but the AppRec: a negative one, T10 "Støtter ikke
    meldingsformatet", in our own name, and no 26 (a citizen's message sent after it is
    acknowledged first, so nothing more is coming)."""
    world = gerica
    message = from_the_portal(world, REFUSED_BY_APPREC[case]())
    world.portal.send_message(message)
    receipt = world.portal.wait_for_receipt(message.msg_id, timeout=ANSWER_SECONDS).message
    assert receipt.receipt is not None
    assert receipt.receipt.status.value == "rejected"
    assert [e.code for e in receipt.receipt.errors] == ["T10"]
    assert receipt.sender.her_ids[0] == world.municipality
    after = world.portal.send_citizen_message(world.municipality, world.service,
                                              world.citizens[1], body="Og en ting til.")
    assert after.msg_id is not None
    world.portal.wait_for_receipt(after.msg_id, timeout=ANSWER_SECONDS)
    assert refusals_of(world, message.msg_id) == []
    assert_nothing_else_happened(world, message.msg_id)


def test_hentplanlagtetimer_on_the_asynchronous_queue_is_reported_to_its_sender(
        gerica: World) -> None:
    """HentPlanlagteTimer is synchronous: sent to ``_async`` it has no reply address to be
    answered at, so its sender hears of it on its error queue (unsupported-message, naming
    the ``_sync`` queue), and nothing is parked or delivered."""
    world = gerica
    message = from_the_portal(world, _named("Hent_planlagte_timer"))
    assert message.function is Function.PLANNED_APPOINTMENTS_REQUEST
    before = len(world.portal.errors())
    world.portal.send_message(message)
    reports = world.portal.wait_for_errors(before + 1, timeout=ANSWER_SECONDS)
    report = reports[-1]
    assert report.condition == "transport:unsupported-message"
    assert report.description is not None and f"{world.municipality}_sync" in report.description
    assert not [r for r in world.portal.received(Function.RECEIPT)
                if r.message.receipt and r.message.receipt.original_msg_id == message.msg_id]
    assert_nothing_else_happened(world, message.msg_id)
