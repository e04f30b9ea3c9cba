"""Hostile input: every case of the corpus in ``hostile.py`` is refused by ``decode``.

Refused means: a :class:`~digidialog.errors.RejectedInput` of the expected
subclass (so the engine answers with the right AppRec code), with a message
that says what is wrong, that never repeats a national id or the content of a
local file, and that arrives within one second.

The one-second bound is a correctness bound on hostile input, not a speed
benchmark: a message that takes seconds to refuse blocks the messages behind
it, so being slow on hostile input is a bug. It is generous (most cases take
milliseconds) and it excludes the one-time compilation of the schema set.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from digidialog.errors import MAX_REASON_CHARS, RejectedInput, SchemaViolation
from digidialog.helsenorge import PortalMessage, decode, schemas
from digidialog.xml import safe
from tests import hostile

REFUSAL_BOUND_SECONDS = 1.0


@pytest.fixture(scope="module")
def compiled_schemas() -> None:
    """Compile the schema set once, outside any timed call."""
    schemas.helsenorge_schema()


@pytest.fixture
def workspace(tmp_path: Path) -> hostile.Workspace:
    """A secret file and a DTD that tries to read it."""
    return hostile.make_workspace(tmp_path)


def _timed_decode(data: bytes) -> tuple[PortalMessage | RejectedInput, float]:
    """What ``decode`` returned or refused with, and the seconds it took."""
    started = time.perf_counter()
    try:
        outcome: PortalMessage | RejectedInput = decode(data)
    except RejectedInput as error:
        outcome = error
    return outcome, time.perf_counter() - started


def _assert_no_leak(text: str) -> None:
    """Neither national id of the corpus nor the secret file's marker is in ``text``."""
    for secret in hostile.LEAKS:
        assert secret not in text, f"{secret!r} leaked"


@pytest.mark.parametrize("case", hostile.CASES, ids=[case.id for case in hostile.CASES])
@pytest.mark.usefixtures("compiled_schemas")
def test_hostile_input_is_refused(case: hostile.HostileCase, workspace: hostile.Workspace) -> None:
    """The case is refused with its RejectedInput subclass and reason, fast and without leaks.

    The elapsed time is measured around ``decode`` alone (not the building of
    the case) and must stay under one second: a correctness bound on hostile
    input, not a benchmark.
    """
    data = case.build(workspace)

    outcome, elapsed = _timed_decode(data)

    if isinstance(outcome, PortalMessage):
        # The citizen's id belongs in a result; a local file's content never does.
        assert hostile.SECRET_MARKER not in outcome.model_dump_json()
        pytest.fail(f"{case.id} was accepted as {outcome.function}")
    assert type(outcome) is case.error, f"{type(outcome).__name__}: {outcome}"
    assert outcome.apprec_code == case.error.apprec_code
    text = str(outcome)
    assert re.search(case.says, text, re.IGNORECASE), text
    assert len(outcome.reason) <= MAX_REASON_CHARS
    assert len(outcome.location or "") <= MAX_REASON_CHARS
    _assert_no_leak(text)
    _assert_no_leak(f"{outcome.reason} {outcome.location}")
    assert elapsed < REFUSAL_BOUND_SECONDS, f"refused in {elapsed:.3f} s"


@pytest.mark.usefixtures("compiled_schemas")
def test_large_base64_attachment_decodes_intact() -> None:
    """A 15 MB base64 PDF in an otherwise valid citizen message is legal and comes back intact.

    Its text is above libxml2's 10 MB text-node limit, so this is the one
    large document that must take the huge-mode path and be accepted.
    """
    payload = hostile.large_attachment()
    data = hostile.citizen_message_with_attachment(payload)
    assert len(base64.b64encode(payload)) == hostile.LARGE_BASE64_CHARS > safe.TEXT_NODE_LIMIT

    message = decode(data)

    assert message.function == "citizen_message"
    assert message.patient is not None
    assert message.patient.id == hostile.NATIONAL_ID
    assert len(message.attachments) == 1
    attachment = message.attachments[0]
    assert attachment.mime_type == "application/pdf"
    assert len(attachment.data) == len(payload)
    assert attachment.data == payload


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param(
            lambda w: hostile.in_sporsmal(
                b'<div xmlns="http://www.w3.org/1999/xhtml">'
                b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" parse="text" href="'
                + w.secret.as_uri().encode()
                + b'"/></div>'
            ),
            id="xinclude",
        ),
        pytest.param(
            lambda w: hostile.edited(
                hostile.example(hostile.HENVENDELSE),
                b"../../../sarepta/skjema/felleskomponenter/MsgHead-v1_2.xsd",
                w.secret.as_uri().encode(),
            ),
            id="xsi-schemalocation",
        ),
    ],
)
def test_local_file_references_are_never_followed(
    reference: Callable[[hostile.Workspace], bytes], workspace: hostile.Workspace
) -> None:
    """References to a local file that need no DTD (XInclude, schemaLocation) are not followed.

    Such documents may well be decoded (the reference is inert text), but the
    file's content appears neither in the result nor in an error.
    """
    data = reference(workspace)

    outcome, _ = _timed_decode(data)

    dumped = outcome.model_dump_json() if isinstance(outcome, PortalMessage) else str(outcome)
    assert hostile.SECRET_MARKER not in dumped


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: hostile.example(hostile.HENVENDELSE), id="henvendelse"),
        pytest.param(lambda: hostile.example(hostile.BESTILTE_TIMER), id="bestilte-timer"),
        pytest.param(
            lambda: hostile.example(hostile.AVBESTILLING_BEKREFTET), id="avbestilling-bekreftet"
        ),
        pytest.param(
            lambda: hostile.with_cancellation_reason("Avlyst - ikke hjemme"),
            id="valid-x-cancellation-reason",
        ),
    ],
)
def test_the_bases_of_the_corpus_decode(build: Callable[[], bytes]) -> None:
    """The official examples the corpus starts from decode, and so does a valid cancellation reason.

    So each hostile case is refused for what was changed, not for what it
    started from.
    """
    data = build()

    message = decode(data)

    assert message.msg_id


def _libxml2_message(data: bytes) -> str:
    """The raw libxml2 message for the first schema error in ``data``."""
    root = safe.parse(data)
    schema = schemas.helsenorge_schema()
    assert not schema.validate(root)
    first = schema.error_log[0]  # type: ignore[index]  # lxml-stubs leave _ErrorLog empty
    assert isinstance(first.message, str)
    return first.message


_ID = hostile.NATIONAL_ID


@pytest.mark.parametrize(
    ("old", "new", "keeps"),
    [
        pytest.param(
            b"<GenDate>2019-05-20T18:04:12.0Z</GenDate>",
            f"<GenDate>{_ID}</GenDate>".encode(),
            "Element 'GenDate': '…' is not a valid value of the atomic type 'xs:dateTime'.",
            id="date-time",
        ),
        pytest.param(
            b"<GenDate>2019-05-20T18:04:12.0Z</GenDate>",
            f"<GenDate>O'Danser {_ID} ' is x</GenDate>".encode(),
            "Element 'GenDate': '…' is not a valid value of the atomic type 'xs:dateTime'.",
            id="value-with-quotes",
        ),
        pytest.param(
            b"<MIGversion>v1.2 2006-05-24</MIGversion>",
            f"<MIGversion>{_ID}</MIGversion>".encode(),
            "Element 'MIGversion': The actual value '…' does not match the fixed value "
            "constraint 'v1.2 2006-05-24'.",
            id="fixed-value",
        ),
        pytest.param(
            b"<Patient>",
            f'<Patient xsi:nil="{_ID}">'.encode(),
            "Element 'Patient', attribute 'nil': '…' is not a valid value of the atomic type "
            "'xs:boolean'.",
            id="attribute",
        ),
        pytest.param(
            b"<Patient>",
            f'<Patient xsi:type="x{_ID}">'.encode(),
            "Element 'Patient', attribute 'type': The QName value '…' of the xsi:type attribute "
            "does not resolve to a type definition.",
            id="qname",
        ),
        pytest.param(
            b"<Sporsmal>",
            f"<FraDato>{_ID}</FraDato><Sporsmal>".encode(),
            "Element 'FraDato': '…' is not a valid value of the atomic type 'xs:date'.",
            id="payload-date",
        ),
    ],
)
def test_sanitise_hides_the_national_id_in_real_libxml2_messages(
    old: bytes, new: bytes, keeps: str
) -> None:
    """A real libxml2 schema message quoting a national id comes out without it.

    The raw message is checked to contain the id first, so the test proves
    something; the sanitised one still names the element and the problem.
    """
    raw = _libxml2_message(hostile.edited(hostile.example(hostile.HENVENDELSE), old, new))
    assert _ID in raw

    cleaned = schemas.sanitise(raw)

    assert _ID not in cleaned
    assert cleaned == keeps


def test_sanitise_keeps_messages_without_values() -> None:
    """Messages that quote only the schema (names, allowed values) keep them, without namespaces."""
    raw = (
        "Element '{urn:ietf:params:xml:ns:icalendar-2.0}text': [facet 'enumeration'] The value "
        "'Avlyst fordi' is not an element of the set "
        "{'Avlyst av tjeneste', 'Avlyst - ikke hjemme'}."
    )
    assert schemas.sanitise(raw) == (
        "Element 'text': [facet 'enumeration'] The value '…' is not an element of the set "
        "{'Avlyst av tjeneste', 'Avlyst - ikke hjemme'}."
    )
    raw = (
        "Element '{http://www.kith.no/xmlstds/msghead/2006-05-24}MsgInfo': Character content "
        "other than whitespace is not allowed because the content type is 'element-only'."
    )
    assert schemas.sanitise(raw) == (
        "Element 'MsgInfo': Character content other than whitespace is not allowed because the "
        "content type is 'element-only'."
    )


def test_schema_violation_from_decode_carries_no_value() -> None:
    """decode's SchemaViolation for a bad value names the element and line, not the value."""
    data = hostile.edited(
        hostile.example(hostile.HENVENDELSE),
        b"<GenDate>2019-05-20T18:04:12.0Z</GenDate>",
        f"<GenDate>{_ID}</GenDate>".encode(),
    )

    with pytest.raises(SchemaViolation) as caught:
        decode(data)

    assert caught.value.location is not None
    assert re.fullmatch(r"line \d+", caught.value.location)
    assert "GenDate" in caught.value.reason
    assert _ID not in str(caught.value)


def test_every_case_has_its_own_id() -> None:
    """Case ids are unique, so each case is its own test and a failure names it."""
    ids = [case.id for case in hostile.CASES]
    assert len(ids) == len(set(ids))


def _nested(total_depth: int, *, after_large_attachment: bool) -> bytes:
    """A MsgHead whose deepest element is at ``total_depth`` (the root is at 1)."""
    attachment = b""
    if after_large_attachment:
        attachment = (
            b'<Document><RefDoc><Content><Base64Container xmlns="'
            + hostile.BASE64_NAMESPACE
            + b'">'
            + b"A" * (safe.TEXT_NODE_LIMIT + 4)
            + b"</Base64Container></Content>"
            b"</RefDoc></Document>"
        )
    levels = total_depth - 2  # below MsgHead and Document
    return (
        b'<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24">'
        + attachment
        + b"<Document>"
        + b"<a>" * levels
        + b"</a>" * levels
        + b"</Document></MsgHead>"
    )


@pytest.mark.parametrize("after_large_attachment", [False, True], ids=["normal", "huge-mode"])
def test_depth_limit_is_the_same_in_both_modes(after_large_attachment: bool) -> None:
    """256 levels parse and 257 are refused, whether or not a large attachment forced huge mode."""
    at_limit = _nested(safe.MAX_DEPTH, after_large_attachment=after_large_attachment)
    over_limit = _nested(safe.MAX_DEPTH + 1, after_large_attachment=after_large_attachment)

    assert etree.QName(safe.parse(at_limit)).localname == "MsgHead"
    with pytest.raises(RejectedInput, match="nested deeper than 256"):
        safe.parse(over_limit)
