"""No national id, name or message text in any log line or error message of the adapter."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from cosdoc_support import FIRST_DAY, ONE_TRY, running
from structlog.testing import capture_logs

from digidialog.adapters.contract import CitizenMessage
from digidialog.domain.timezone import OSLO
from digidialog.errors import DigidialogError
from digidialog_cosdoc.documents import build
from digidialog_cosdoc.mock.answers import Answer, avtale_fields
from digidialog_cosdoc.mock.server import utfor_svar
from digidialog_cosdoc.mock.state import Avtale
from digidialog_cosdoc.wire import Kommando, Status

START = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=OSLO)
CONFIDED_TEXT = "Jeg har vondt i brystet, ring Áilu Ŋuolla"
BAD_ID = "12345678901"  # eleven digits, wrong check digits


def test_nothing_personal_leaves_in_logs_or_errors() -> None:
    """Skipped records, skipped events and refused calls are logged and raised by field,
    id and reason only."""
    with running(seed_citizens=2) as cosdoc, capture_logs() as logs:
        store = cosdoc.mock.store
        people = list(store.pasienter.values())
        sensitive = {CONFIDED_TEXT, BAD_ID, *(p.fodselsnummer for p in people),
                     *(p.navn for p in people)}
        store.add_patient(BAD_ID, "Ugyldig Person", [101])
        adapter = cosdoc.adapter(policy=ONE_TRY)
        errors: list[str] = []
        list(adapter.citizens())
        broken = Avtale(nr=1, pasient_nr=people[0].nr, tjeneste_id=101, status="T",
                        dato=FIRST_DAY, fra_kl="08:00", til_kl="99:99", tekst=CONFIDED_TEXT,
                        ansatt=people[1].navn)
        cosdoc.mock.script("AVTALER", utfor_svar(Answer(Status.OK, None, build(
            Kommando.AVTALER, [("Avtale", avtale_fields(broken))]))))
        adapter.appointments(people[0].fodselsnummer, START, START + timedelta(days=1))
        for attempt in (
            lambda: adapter.appointments("01010100000", START, START + timedelta(days=1)),
            lambda: adapter.deliver_message(CitizenMessage(
                message_id="m", thread_id="m", service_code="103",
                citizen_id=people[0].fodselsnummer, subject=people[1].navn, body=CONFIDED_TEXT,
                sent_at=START)),
            lambda: adapter.deliver_message(CitizenMessage(
                message_id="m2", thread_id="m2", service_code="101",
                citizen_id=people[0].fodselsnummer, body=CONFIDED_TEXT + "\x00",
                sent_at=START)),
        ):
            with pytest.raises(DigidialogError) as caught:
                attempt()
            errors.append(str(caught.value))
        ghost = store.add_patient("01010100000", "Borte Borte", [101])
        store.write_message(ghost, CONFIDED_TEXT)
        del store.pasienter[ghost]
        adapter.changes(None)
    assert len(logs) >= 3
    written = json.dumps(logs, default=str, ensure_ascii=False) + "\n".join(errors)
    for value in sensitive | {"01010100000", "Borte"}:
        assert value not in written, value
