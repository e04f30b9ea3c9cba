"""GericaAdapter's own behaviour: paging, the change feed and its checkpoints, batches,
decisions after a restart, skipped records, the plugin, and logs without personal data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from gerica_support import CITIZEN, SOAP11, adapter_for, oslo, replying, served_mock, visit
from structlog.testing import capture_logs
from werkzeug.wrappers import Request, Response

from digidialog.adapters import registry
from digidialog.adapters.contract import DigitalStatusUpdate
from digidialog.adapters.registry import AdapterSettings, check_plugin
from digidialog.domain import AppointmentStatus, CancellationKind, CancellationRequest
from digidialog.domain.events import (
    AppointmentChanged,
    CancellationDecided,
    StaffMessageWritten,
    VisitCompleted,
)
from digidialog.errors import FatalError, MalformedReply
from digidialog.testing import mocks
from digidialog_gerica import GericaAdapter, plugin
from digidialog_gerica import adapter as adapter_module
from digidialog_gerica.mock import GericaMock
from digidialog_gerica.wire import NAMESPACE


@pytest.fixture
def mock() -> Iterator[GericaMock]:
    """A served mock with the shared citizen."""
    with served_mock() as running:
        yield running


# ------------------------------------------------------------------ paging


def test_every_page_is_read(mock: GericaMock) -> None:
    """23 visits in pages of 7: four requests, every visit once, in order."""
    start = oslo(2026, 3, 2, 8)
    for number in range(23):
        mock.add_appointment(CITIZEN, visit(f"P{number:02d}", start + timedelta(hours=number)))
    adapter = adapter_for(mock, page_size=7)
    found = adapter.appointments(CITIZEN, start, start + timedelta(days=2))
    assert [a.uid for a in found] == [f"P{n:02d}" for n in range(23)]
    assert mock.requests_seen.count("HentAvtaler") == 4
    assert mock.requests_seen.count("HentTjenester") == 1  # service names, once per adapter
    assert {a.service_name for a in found} == {"Hjemmesykepleie"}


def test_an_empty_period_is_one_request(mock: GericaMock) -> None:
    """No visits: one page, nothing in it."""
    adapter = adapter_for(mock)
    assert adapter.appointments(CITIZEN, oslo(2030, 1, 1), oslo(2030, 1, 2)) == []
    assert mock.requests_seen.count("HentAvtaler") == 1


def _avtale(uid: str) -> str:
    return (f"<g:Avtale><g:AvtaleId>{uid}</g:AvtaleId><g:Fodselsnummer>{CITIZEN}"
            "</g:Fodselsnummer><g:TjenesteKode>HSP</g:TjenesteKode><g:Status>TILDELT</g:Status>"
            "<g:Start>2026-03-02T08:00:00+01:00</g:Start><g:Slutt>2026-03-02T08:30:00+01:00"
            "</g:Slutt><g:Beskrivelse>Tilsyn</g:Beskrivelse>"
            "<g:Endret>2026-03-01T08:00:00+01:00</g:Endret></g:Avtale>")


def _gerica(answers: dict[str, Callable[[Request], str]]) -> Callable[[Request], Response]:
    """A fake Gerica answering each operation (by SOAPAction) with a body from ``answers``."""

    def handle(request: Request) -> Response:
        operation = request.headers["SOAPAction"].strip('"').rpartition("/")[2]
        body = answers.get(operation, lambda _r: f"<g:{operation}Svar/>")(request)
        return Response(f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:g="{NAMESPACE}">'
                        f"<soap:Body>{body}</soap:Body></soap:Envelope>", content_type="text/xml")

    return handle


def _page(request: Request) -> int:
    return int(request.get_data(as_text=True).split("Side>")[1].split("<")[0])


def test_a_visit_moved_between_pages_comes_once() -> None:
    """Gerica's pages shift while we read: the later copy of a visit wins, no duplicates."""
    pages = {1: ["A", "B"], 2: ["B", "C"]}

    def hent(request: Request) -> str:
        number = _page(request)
        return ("<g:HentAvtalerSvar>" + "".join(_avtale(u) for u in pages[number])
                + f"<g:Side>{number}</g:Side><g:AntallSider>2</g:AntallSider></g:HentAvtalerSvar>")

    with replying(_gerica({"HentAvtaler": hent})) as url:
        adapter = GericaAdapter(url, "u", "p")
        found = adapter.appointments(CITIZEN, oslo(2026, 3, 1), oslo(2026, 3, 3))
    assert [a.uid for a in found] == ["A", "B", "C"]


def test_a_page_other_than_the_one_asked_for_is_refused() -> None:
    """Asked for page 2, answered page 1: the paging cannot be trusted."""

    def hent(request: Request) -> str:
        return ("<g:HentAvtalerSvar>" + _avtale("A")
                + "<g:Side>1</g:Side><g:AntallSider>2</g:AntallSider></g:HentAvtalerSvar>")

    with replying(_gerica({"HentAvtaler": hent})) as url, pytest.raises(
        MalformedReply, match="page 1 when asked for page 2"
    ):
        GericaAdapter(url, "u", "p").appointments(CITIZEN, oslo(2026, 3, 1), oslo(2026, 3, 3))


def test_endless_pages_are_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Gerica that always has one more page is stopped at MAX_PAGES."""
    monkeypatch.setattr(adapter_module, "MAX_PAGES", 3)

    def hent(request: Request) -> str:
        number = _page(request)
        return (f"<g:HentAvtalerSvar><g:Side>{number}</g:Side>"
                f"<g:AntallSider>{number + 1}</g:AntallSider></g:HentAvtalerSvar>")

    with replying(_gerica({"HentAvtaler": hent})) as url, pytest.raises(
        MalformedReply, match="more than 3 pages"
    ):
        GericaAdapter(url, "u", "p").appointments(CITIZEN, oslo(2026, 3, 1), oslo(2026, 3, 3))


# ------------------------------------------------------------------ change feed


def test_the_feed_is_read_in_batches_with_a_checkpoint(mock: GericaMock) -> None:
    """Five changes read two at a time: 2, 2, 1, with ``more`` until the last."""
    for number in range(5):
        mock.write_staff_message(CITIZEN, f"Melding {number}")
    adapter = adapter_for(mock)
    checkpoint = None
    sizes = []
    while True:
        batch = adapter.changes(checkpoint, limit=2)
        sizes.append(len(batch.events))
        checkpoint = batch.checkpoint
        if not batch.more:
            break
    assert sizes == [2, 2, 1]
    assert checkpoint == "5"
    assert adapter.changes(checkpoint).events == ()
    assert adapter.changes(checkpoint).checkpoint == "5"


def test_each_kind_of_change_becomes_its_event(mock: GericaMock) -> None:
    """A changed visit, a completed visit, a staff message (with its thread) and a decision."""
    mock.add_appointment(CITIZEN, visit("E1", oslo(2026, 3, 2, 8)))
    mock.add_appointment(CITIZEN, visit("E2", oslo(2026, 3, 2, 10)))
    adapter = adapter_for(mock)
    adapter.register_cancellation(CancellationRequest(
        request_id="R-1", citizen_id=CITIZEN, kind=CancellationKind.SINGLE,
        start=oslo(2026, 3, 2, 10), end=oslo(2026, 3, 2, 10, 30), appointment_uid="E2"))
    mock.change_visit("E1", start=oslo(2026, 3, 2, 9), end=oslo(2026, 3, 2, 9, 30))
    mock.complete_visit("E1", employee="Ánte Ŋuolla")
    mock.write_staff_message(CITIZEN, "Svar", subject="", thread_id="T-1", reply_to="M-1",
                             interim=True)
    mock.decide_cancellations(accept=True, comment="Greit")
    events = adapter.changes(None).events
    changed, completed, written, cancelled, decided = events
    assert isinstance(changed, AppointmentChanged) and changed.appointment.start == oslo(
        2026, 3, 2, 9)
    assert isinstance(completed, VisitCompleted)
    assert completed.appointment.employees == ("Ánte Ŋuolla",)
    assert isinstance(written, StaffMessageWritten)
    message = written.message
    assert (message.thread_id, message.in_reply_to, message.interim, message.subject) == (
        "T-1", "M-1", True, None)
    assert message.author == "Kari Sykepleier"
    assert isinstance(cancelled, AppointmentChanged)
    assert cancelled.appointment.status is AppointmentStatus.CANCELLED
    assert isinstance(decided, CancellationDecided)
    assert decided.decision.affected_uids == ("E2",) and decided.decision.comment == "Greit"
    assert [e.event_id for e in events] == [f"gerica:{n}" for n in range(1, 6)]
    assert all(e.citizen_id == CITIZEN for e in events)


def test_a_checkpoint_that_is_not_a_sequence_is_refused(mock: GericaMock) -> None:
    """A checkpoint from another vendor or a typo is a fatal configuration problem."""
    with pytest.raises(FatalError):
        adapter_for(mock).changes("gerica:12")


def _feed(*endringer: str, head: int) -> Callable[[Request], str]:
    return lambda _r: ("<g:HentEndringerSvar>" + "".join(endringer)
                       + f"<g:SisteSekvens>{head}</g:SisteSekvens></g:HentEndringerSvar>")


def _melding(sequence: int, text: str = "Hei", sent: str = "2026-03-02T08:00:00+01:00") -> str:
    return (f"<g:Endring><g:Sekvens>{sequence}</g:Sekvens>"
            "<g:Tidspunkt>2026-03-02T08:00:00+01:00</g:Tidspunkt><g:Type>MELDING</g:Type>"
            f"<g:Melding><g:MeldingId>G-{sequence}</g:MeldingId><g:TjenesteKode>HSP"
            f"</g:TjenesteKode><g:Fodselsnummer>{CITIZEN}</g:Fodselsnummer><g:Emne>E</g:Emne>"
            f"<g:Tekst>{text}</g:Tekst><g:Forfatter>Kari</g:Forfatter><g:Sendt>{sent}</g:Sendt>"
            "<g:Midlertidig>false</g:Midlertidig></g:Melding></g:Endring>")


def test_an_unusable_change_is_skipped_and_reported_without_its_content() -> None:
    """One broken Endring between good ones: the others arrive, the checkpoint moves past it."""
    feed = _feed(_melding(1), _melding(2, text="Áilu 13116900216", sent="i går"), _melding(3),
                 head=3)
    with replying(_gerica({"HentEndringer": feed})) as url, capture_logs() as logs:
        batch = GericaAdapter(url, "u", "p").changes(None)
    assert [e.event_id for e in batch.events] == ["gerica:1", "gerica:3"]
    assert batch.checkpoint == "3" and not batch.more
    (skipped,) = [entry for entry in logs if entry["event"] == "gerica.change_skipped"]
    assert skipped["event_id"] == "gerica:2"
    assert "13116900216" not in str(logs) and "Áilu" not in str(logs)


@pytest.mark.parametrize(
    "endringer",
    [(_melding(2), _melding(1)), (_melding(1), _melding(1)),
     (_melding(1).replace("<g:Sekvens>1", "<g:Sekvens>x"),)],
)
def test_sequences_that_do_not_increase_are_refused(endringer: tuple[str, ...]) -> None:
    """No checkpoint can be trusted from a batch whose Sekvens values are unusable."""
    with replying(_gerica({"HentEndringer": _feed(*endringer, head=2)})) as url, pytest.raises(
        MalformedReply
    ):
        GericaAdapter(url, "u", "p").changes(None)


def test_changes_at_or_before_the_checkpoint_are_refused() -> None:
    """Gerica answering with what we already have would make us go backwards."""
    with replying(_gerica({"HentEndringer": _feed(_melding(4), head=4)})) as url, pytest.raises(
        MalformedReply
    ):
        GericaAdapter(url, "u", "p").changes("4")


def test_more_is_told_by_siste_sekvens() -> None:
    """Fewer changes than asked for, but SisteSekvens is further on: there is more."""
    with replying(_gerica({"HentEndringer": _feed(_melding(1), head=9)})) as url:
        batch = GericaAdapter(url, "u", "p").changes(None, limit=50)
    assert batch.more and batch.checkpoint == "1"


# ------------------------------------------------------------------ decisions after a restart


def _cancel(adapter: GericaAdapter, request_id: str, uid: str) -> None:
    adapter.register_cancellation(CancellationRequest(
        request_id=request_id, citizen_id=CITIZEN, kind=CancellationKind.SINGLE,
        start=oslo(2026, 3, 2, 8), end=oslo(2026, 3, 2, 8, 30), appointment_uid=uid))


def test_an_accepted_decision_is_placed_by_the_visits_it_cancelled(mock: GericaMock) -> None:
    """A new adapter (after a restart) learns the citizen from the cancelled visits' changes."""
    mock.add_appointment(CITIZEN, visit("D1", oslo(2026, 3, 2, 8)))
    _cancel(adapter_for(mock), "R-A", "D1")
    mock.decide_cancellations(accept=True)
    events = adapter_for(mock).changes(None).events
    (decided,) = [e for e in events if isinstance(e, CancellationDecided)]
    assert decided.citizen_id == CITIZEN


def test_a_decision_arrives_even_when_the_citizen_is_unknown(mock: GericaMock) -> None:
    """Avbestillingssvar does not name the citizen: the engine's hook tells when it can;
    a fresh adapter that never saw the cancellation still delivers the decision, without
    a citizen, since the engine knows whose its own request id was."""
    mock.add_appointment(CITIZEN, visit("D2", oslo(2026, 3, 2, 8)))
    _cancel(adapter_for(mock), "R-B", "D2")
    mock.decide_cancellations(accept=False)
    (anonymous,) = adapter_for(mock).changes(None).events
    assert isinstance(anonymous, CancellationDecided)
    assert anonymous.citizen_id is None
    assert anonymous.decision.request_id == "R-B" and not anonymous.decision.accepted
    told = adapter_for(mock, cancellation_owner={"R-B": CITIZEN}.get)
    (decided,) = told.changes(None).events
    assert isinstance(decided, CancellationDecided) and decided.citizen_id == CITIZEN


# ------------------------------------------------------------------ citizens and status


def test_citizens_of_one_service(mock: GericaMock) -> None:
    """HentMottakere with TjenesteKode lists only that service's citizens."""
    mock.add_citizen("15076500565", "Roland Gundersen", ["TRYGG"], digital=True)
    adapter = adapter_for(mock)
    assert {c.national_id for c in adapter.citizens()} == {CITIZEN, "15076500565"}
    (only,) = adapter.citizens("TRYGG")
    assert only.national_id == "15076500565" and only.digitally_active


def test_a_citizen_with_a_broken_national_id_is_skipped(mock: GericaMock) -> None:
    """Gerica holding an invalid id must not stop everyone else; a warning counts it."""
    mock.add_citizen("12345678901", "Feil Nummer", ["HSP"])
    with capture_logs() as logs:
        found = [c.national_id for c in adapter_for(mock).citizens()]
    assert found == [CITIZEN]
    assert logs[0]["event"] == "gerica.citizens_skipped" and logs[0]["skipped"] == 1
    assert "12345678901" not in str(logs)


def test_digital_status_in_batches(mock: GericaMock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to send sends nothing; many updates go in batches, unknown ids not counted."""
    adapter = adapter_for(mock)
    assert adapter.set_digital_status([]) == 0
    assert "OppdaterDigitalStatus" not in mock.requests_seen
    monkeypatch.setattr(adapter_module, "STATUS_BATCH", 2)
    day = oslo(2026, 3, 1).date()
    updates = [DigitalStatusUpdate(national_id=CITIZEN, active=True, since=day),
               DigitalStatusUpdate(national_id="15076500565", active=True, since=day),
               DigitalStatusUpdate(national_id=CITIZEN, active=False, since=day)]
    assert adapter.set_digital_status(updates) == 2
    assert mock.requests_seen.count("OppdaterDigitalStatus") == 2
    assert not mock.digitally_active(CITIZEN)


# ------------------------------------------------------------------ plugin


def test_the_plugin_is_registered_and_checked() -> None:
    """The entry point loads, passes the registry's checks and names itself gerica."""
    loaded = registry.load("gerica")
    assert loaded is plugin
    assert check_plugin("gerica", plugin) is plugin
    assert "gerica" in registry.available()


def test_the_plugin_makes_a_working_pair() -> None:
    """The mock entry point's harness and plugin.create: a seeded Gerica and an adapter that
    reads it."""
    harness = mocks.load("gerica").harness(seed_citizens=4)
    harness.start()
    mock = harness.mock
    details = {"base_url": harness.base_url, "service_url": mock.service_url}
    try:
        adapter = plugin.create(AdapterSettings(
            base_url=details["base_url"], username=mock.username, password=mock.password,
            timeout=3.0, options={"page_size": 2, "attempts": 1}))
        citizens = list(adapter.citizens())
        assert len(citizens) == 4
        statuses = set()
        for citizen in citizens:
            now = oslo(2026, 1, 1)
            found = adapter.appointments(citizen.national_id, now - timedelta(days=3650),
                                         now + timedelta(days=3650))
            statuses |= {a.status for a in found}
        assert statuses == set(AppointmentStatus)
        adapter.close()
    finally:
        harness.stop()
    assert details["service_url"].endswith("/InnbyggerDialog")


def test_the_plugin_wants_credentials() -> None:
    """WS-Security needs a username and password; without them, a clear fatal error."""
    with pytest.raises(FatalError, match="username and password"):
        plugin.create(AdapterSettings(base_url="http://127.0.0.1:9"))


def test_no_personal_data_in_any_log_event(mock: GericaMock) -> None:
    """A session with a skipped citizen, a decision and a staff message logs counts only."""
    mock.add_citizen("12345678901", "Feil Nummer", ["HSP"])
    mock.add_appointment(CITIZEN, visit("L1", oslo(2026, 3, 2, 8)))
    _cancel(adapter_for(mock), "R-L", "L1")
    mock.decide_cancellations(accept=False)
    mock.write_staff_message(CITIZEN, "Hemmelig tekst til Áilu")
    with capture_logs() as logs:
        adapter = adapter_for(mock)
        list(adapter.citizens())
        adapter.changes(None)
        adapter.appointments(CITIZEN, oslo(2026, 3, 1), oslo(2026, 3, 3))
    assert {entry["event"] for entry in logs} == {"gerica.citizens_skipped"}
    text = str(logs)
    for personal in (CITIZEN, "12345678901", "Áilu", "Ŋuolla", "Hemmelig", "Feil Nummer"):
        assert personal not in text
