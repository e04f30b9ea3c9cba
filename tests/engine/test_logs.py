"""No national id, name or message text in any log line of a whole flow (issue 8).

structlog is configured as the daemon configures it (``digidialog.log.configure``,
JSON lines on stderr), at DEBUG so that every line the engine can write is
written. Then a citizen's message, a proxy's message, a staff answer, refusals
(a closed service, a citizen who does not receive it), a message with an
invalid national id and one cut off after a national id go through, for every
vendor on both backends (the adapters and the transports log too): every line
must be JSON, and none may hold a national id, a name or a subject or text of
any of the messages. The people and texts are made unmistakable, so that a
truncated or quoted text is caught too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from digidialog import log
from digidialog.domain import Relation
from digidialog.helsenorge import Function, Patient, Representative
from digidialog.testing import samples
from tests import hostile
from tests.engine.addressing import addressed
from tests.engine.world import World, eventually, world

RELATIVE = Representative(id=samples.RELATIVE.id, given_name="Torbjørg",
                          family_name="Kvalsvik", relation=Relation.FULLMAKT)
STRANGER = samples.RELATIVE.id
"""A valid national id the EPJ does not know: refused, it must not be logged either."""

MARKERS = ("Tyttebærsyltetøy", "Skiferkjeller", "Molteskrin", "Fjordhestvogn", "Lyngkrans",
           "Reinsdyrbjelle", "Hardingfele", "Nordlysbrev")
"""One in each subject and text, so that a part of it in a log line is found too."""


@pytest.fixture
def daemon_log(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[str]]]:
    """Logging as the daemon configures it, captured: call it for the lines so far."""
    log.configure("DEBUG")
    lines: list[str] = []

    def read() -> list[str]:
        lines.extend(capsys.readouterr().err.splitlines())
        return list(lines)

    yield read
    structlog.reset_defaults()


@pytest.fixture
def logged_world(daemon_log: Callable[[], list[str]], vendor: str, backend: str,
                 tmp_path: Path) -> Iterator[World]:
    """A world started after logging is configured, so that its every line is caught."""
    with world(vendor, backend, tmp_path) as started:
        yield started


def text(n: int) -> str:
    """Subject or body number ``n``, with its marker."""
    return f"Hei! {MARKERS[n]} til deg, ring meg på 48 12 34 56."


def test_no_log_line_holds_an_id_a_name_or_a_text(
        daemon_log: Callable[[], list[str]], logged_world: World) -> None:
    """The whole flow, then every captured line scanned."""
    world = logged_world
    citizen = world.citizens[0]
    record = next(r for r in world.engine.municipalities[0].adapter.citizens(
        service_code=world.service_code) if r.national_id == citizen)
    *given, family = record.name.split()
    patient = Patient(id=citizen, given_name=" ".join(given) or family, family_name=family)
    portal = world.portal

    own = portal.send_citizen_message(world.municipality, world.service, patient,
                                      subject=text(0), body=text(1))
    proxy = portal.send_proxy_message(world.municipality, world.service, patient, RELATIVE,
                                      subject=text(2), body=text(3))
    closed = portal.send_citizen_message(world.municipality, world.unconfigured_service,
                                         patient, subject=text(4), body=text(5))
    unreceived = portal.send_citizen_message(world.municipality, world.service, STRANGER,
                                             subject=text(6), body=text(7))
    example = hostile.example(hostile.HENVENDELSE)
    invalid = portal.send_raw(world.municipality, addressed(example.replace(
        hostile.NATIONAL_ID.encode(), hostile.WRONG_CHECK_DIGIT.encode()), world))
    cut = example.index(hostile.NATIONAL_ID.encode()) + len(hostile.NATIONAL_ID)
    truncated = portal.send_raw(world.municipality, addressed(example[:cut], world))
    for sent in (own, proxy, closed, unreceived, invalid):
        assert sent.msg_id is not None
        portal.wait_for_receipt(sent.msg_id, timeout=15)
    eventually(lambda: [e for e in portal.errors() if e.about is truncated],
               what="the truncated message reported")
    for refused in (closed, unreceived):
        portal.wait_for(function=Function.REFUSAL, thread=refused.msg_id, timeout=15)
    world.harness.write_staff_message(citizen, text(1).replace(MARKERS[1], MARKERS[6]),
                                      subject=text(0).replace(MARKERS[0], MARKERS[7]),
                                      thread_id=own.msg_id, in_reply_to=own.msg_id)
    answer = portal.wait_for(function=Function.SERVICE_REPLY, thread=own.msg_id,
                             timeout=15)[0].message
    eventually(lambda: not world.store.receipts.pending(world.municipality),
               what="every AppRec from the portal resolved")
    eventually(lambda: len([m for m in world.harness.delivered_messages()
                            if m["message_id"] in (own.msg_id, proxy.msg_id)]) == 2,
               what="both messages in the EPJ")

    ids = {citizen, RELATIVE.id, STRANGER, hostile.NATIONAL_ID, hostile.WRONG_CHECK_DIGIT}
    names = {*record.name.split(), RELATIVE.given_name, RELATIVE.family_name,
             *(answer.author or "").split()}
    assert answer.author, "the staff answer names its author"
    texts = {text(n) for n in range(8)} | {answer.body or "", answer.subject or ""}
    texts.discard("")
    lines = daemon_log()
    assert any('"portal message received"' in line for line in lines), "nothing was captured"
    leaks = [f"line {number}: {what}" for number, line in enumerate(lines, 1)
             for what in findings(line, ids, names, texts)]
    assert not leaks, "\n".join(leaks)


def findings(line: str, ids: set[str], names: set[str], texts: set[str]) -> list[str]:
    """What is wrong with one log line (without quoting it: the failure is no log either)."""
    try:
        json.loads(line)
    except ValueError:
        return [f"not a JSON log line ({len(line)} characters)"]
    found = [f"national id ending {i[-3:]}" for i in ids if i in line]
    found += [f"a name of {len(n)} letters" for n in names
              if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", line)]
    found += [f"a text (marker {m})" for m in MARKERS if m in line]
    found += ["a whole subject or text" for t in texts if t in line]
    return found
