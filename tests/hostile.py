"""The hostile-input corpus, built in code at test time.

Each :class:`HostileCase` builds its bytes from an official Helsenorge example
(or from nothing, for the blobs), changing only what makes it hostile, so that
what is refused is refused for that change. Big documents (15 and 50 MB) are
generated when a test asks for them; nothing large is committed.

Cases that point at local files get a :class:`Workspace`: a secret file whose
marker must never come back, and a DTD that tries to read it.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from digidialog.errors import NotWellFormed, RejectedInput, SchemaViolation, UnsupportedProcess
from tests.conftest import official_example

HENVENDELSE = "DIALOG_INNBYGGER_EKONTAKT_1.2__Henvendelse_-_Foresporsel_innbygger_-_Henvendelse.xml"
BESTILTE_TIMER = (
    "DIALOG_INNBYGGER_TIMERESERVASJON_1.2__Planlagte_timer_-_Svar_helsepersonell_-"
    "_Bestilte_timer.xml"
)
AVBESTILLING_BEKREFTET = (
    "DIALOG_INNBYGGER_AVTALEUTSENDING_1.0__Avtaleutsending_-_Helsepersonell_-"
    "_Avbestilling_av_time_bekreftet.xml"
)

NATIONAL_ID = "13116900216"
"""The (synthetic) citizen of the official examples."""
WRONG_CHECK_DIGIT = "13116900217"
"""The same number with its second check digit changed."""
SECRET_MARKER = "DIGIDIALOG-HOSTILE-SECRET-5c1e9a"  # noqa: S105 - a marker, not a password
"""Written into a local file; it must never come back in an error or a result."""

MB = 1_000_000
LARGE_BASE64_CHARS = 15 * MB
"""A 15 MB base64 text: above libxml2's 10 MB text-node limit, below the 40 MiB size cap."""

XHTML_DIV = b'<div xmlns="http://www.w3.org/1999/xhtml">'
BASE64_NAMESPACE = b"http://www.kith.no/xmlstds/base64container"
SPORSMAL = b"<Sporsmal>Hei."
"""The start of the citizen's text in :data:`HENVENDELSE`."""


@dataclass(frozen=True)
class Workspace:
    """Local files a case may point at."""

    secret: Path
    dtd: Path


def make_workspace(directory: Path) -> Workspace:
    """A secret file holding :data:`SECRET_MARKER` and a DTD whose entities read it."""
    secret = directory / "secret.txt"
    secret.write_text(f"{SECRET_MARKER}\n", encoding="utf-8")
    dtd = directory / "hostile.dtd"
    dtd.write_text(
        f'<!ENTITY secret SYSTEM "{secret.as_uri()}">\n'
        f'<!ENTITY % file SYSTEM "{secret.as_uri()}">\n'
        "<!ENTITY % wrap \"<!ENTITY &#x25; leak SYSTEM 'file:///nonexistent/%file;'>\">\n"
        "%wrap;\n%leak;\n",
        encoding="utf-8",
    )
    return Workspace(secret=secret, dtd=dtd)


@dataclass(frozen=True)
class HostileCase:
    """One hostile document and how it must be refused.

    ``says`` is a regular expression (case-insensitive) the error text must
    match: the specific reason, not just any error.
    """

    id: str
    build: Callable[[Workspace], bytes]
    error: type[RejectedInput]
    says: str


# ---------------------------------------------------------------- building blocks


def example(name: str) -> bytes:
    """An official example's bytes; skips the test when the examples are not on this machine
    (fails it under CI: tests.conftest.reference_missing)."""
    return official_example(name).read_bytes()


def edited(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with the first ``old`` replaced by ``new``; fails if ``old`` is not there.

    Failing matters: a silently unchanged example would be a valid message,
    and the test would then check nothing.
    """
    if old not in data:
        raise ValueError(f"{old[:60]!r} is not in the example: the official example changed")
    return data.replace(old, new, 1)


def with_doctype(data: bytes, doctype: str) -> bytes:
    """``data`` with a document type declaration after its XML declaration."""
    declaration, newline, rest = data.partition(b"\n")
    if not declaration.startswith(b"<?xml"):
        raise ValueError("the example does not start with an XML declaration")
    return declaration + newline + doctype.encode("utf-8") + b"\n" + rest


def in_sporsmal(markup: bytes) -> bytes:
    """:data:`HENVENDELSE` with ``markup`` at the start of the citizen's text."""
    return edited(example(HENVENDELSE), SPORSMAL, b"<Sporsmal>" + markup + b"Hei.")


def attachment_bytes(size: int) -> bytes:
    """A deterministic pseudo-PDF of ``size`` bytes: a PDF header, then random bytes."""
    header = b"%PDF-1.7\n"
    return header + random.Random(1036).randbytes(size - len(header))  # noqa: S311 - test data


def attachment_document(data: bytes, mime_type: bytes = b"application/pdf") -> bytes:
    """A MsgHead Document carrying ``data`` as a base64 attachment (MsgType A)."""
    return (
        b'<Document><RefDoc><IssueDate V="2019-05-20T18:04:12.0Z"/>'
        b'<MsgType V="A" DN="Vedlegg"/><MimeType>' + mime_type + b"</MimeType><Content>"
        b'<Base64Container xmlns="'
        + BASE64_NAMESPACE
        + b'">'
        + base64.b64encode(data)
        + b"</Base64Container></Content></RefDoc></Document>"
    )


def large_attachment() -> bytes:
    """The attachment whose base64 text is :data:`LARGE_BASE64_CHARS` long."""
    return attachment_bytes(LARGE_BASE64_CHARS // 4 * 3)


def citizen_message_with_attachment(data: bytes) -> bytes:
    """:data:`HENVENDELSE` (a valid citizen message) with ``data`` attached after its text."""
    return edited(example(HENVENDELSE), b"</MsgHead>", attachment_document(data) + b"</MsgHead>")


def after_large_attachment(extra: bytes) -> bytes:
    """A valid message with a large attachment, then ``extra`` in one more Document.

    The attachment comes first, so libxml2 stops on its text and everything
    after it is read only in huge mode: the path where the limits are ours.
    """
    return edited(
        example(HENVENDELSE),
        b"</MsgHead>",
        attachment_document(large_attachment()) + b"<Document>" + extra + b"</Document></MsgHead>",
    )


def billion_laughs(levels: int = 10) -> str:
    """The classic nested-entity bomb: ``levels`` entities, each ten of the one before."""
    lines = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        lines.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    return "<!DOCTYPE MsgHead [\n" + "\n".join(lines) + "\n]>"


def _billion_laughs(_: Workspace) -> bytes:
    data = with_doctype(example(HENVENDELSE), billion_laughs())
    return edited(data, SPORSMAL, b"<Sporsmal>&lol9;")


def _xxe(workspace: Workspace) -> bytes:
    doctype = f'<!DOCTYPE MsgHead [<!ENTITY xxe SYSTEM "{workspace.secret.as_uri()}">]>'
    data = edited(with_doctype(example(HENVENDELSE), doctype), SPORSMAL, b"<Sporsmal>&xxe;")
    return edited(data, b"<GivenName>Line</GivenName>", b"<GivenName>&xxe;</GivenName>")


def _xxe_after_comment_and_pi(workspace: Workspace) -> bytes:
    doctype = (
        "<!-- an innocent comment -->\n<?processing instruction?>\n"
        f'<!DOCTYPE MsgHead [<!ENTITY xxe SYSTEM "{workspace.secret.as_uri()}">]>'
    )
    return edited(with_doctype(example(HENVENDELSE), doctype), SPORSMAL, b"<Sporsmal>&xxe;")


def _xxe_after_utf8_bom(workspace: Workspace) -> bytes:
    return b"\xef\xbb\xbf" + _xxe(workspace)


def _xxe_in_utf16_without_bom(workspace: Workspace) -> bytes:
    # libxml2 guesses UTF-16 from "<\0?\0": the DOCTYPE would reach it unseen by a byte scan.
    text = _xxe(workspace).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    return text.encode("utf-16-le")


def _external_dtd_http(_: Workspace) -> bytes:
    doctype = '<!DOCTYPE MsgHead SYSTEM "http://127.0.0.1:9/hostile.dtd">'
    return with_doctype(example(HENVENDELSE), doctype)


def _external_dtd_public_http(_: Workspace) -> bytes:
    doctype = '<!DOCTYPE MsgHead PUBLIC "-//Hostile//DTD MsgHead//EN" "http://127.0.0.1:9/x.dtd">'
    return with_doctype(example(HENVENDELSE), doctype)


def _external_dtd_local_path(workspace: Workspace) -> bytes:
    data = with_doctype(example(HENVENDELSE), f'<!DOCTYPE MsgHead SYSTEM "{workspace.dtd}">')
    return edited(data, SPORSMAL, b"<Sporsmal>&secret;")


def _parameter_entities(workspace: Workspace) -> bytes:
    # Error-based exfiltration: the file's text would end up in a "failed to load" message.
    doctype = (
        "<!DOCTYPE MsgHead [\n"
        f'<!ENTITY % file SYSTEM "{workspace.secret.as_uri()}">\n'
        "<!ENTITY % wrap \"<!ENTITY &#x25; leak SYSTEM 'file:///nonexistent/%file;'>\">\n"
        "%wrap;\n%leak;\n]>"
    )
    return with_doctype(example(HENVENDELSE), doctype)


def _parameter_entity_local_dtd(workspace: Workspace) -> bytes:
    doctype = f'<!DOCTYPE MsgHead [<!ENTITY % ext SYSTEM "{workspace.dtd.as_uri()}"> %ext;]>'
    return edited(with_doctype(example(HENVENDELSE), doctype), SPORSMAL, b"<Sporsmal>&secret;")


def _deep_nesting(_: Workspace) -> bytes:
    # Sporsmal is xs:anyType, so the schema would accept any depth: only the parser limits it.
    return in_sporsmal(XHTML_DIV + b"<div>" * 299 + b"</div>" * 299 + b"</div>")


def _deep_nesting_after_large_attachment(_: Workspace) -> bytes:
    # Huge mode allows 2048 levels; 2000 levels over 100 000 leaves took minutes to check.
    return after_large_attachment(b"<a>" * 2000 + b"<b/>" * 100_000 + b"</a>" * 2000)


def _element_flood_after_large_attachment(_: Workspace) -> bytes:
    # Legal depth, many elements, all read in huge mode (took half a minute before).
    return after_large_attachment(b"<a>" * 250 + b"<b/>" * 400_000 + b"</a>" * 250)


def _element_flood(_: Workspace) -> bytes:
    # Six million elements in an XHTML body: schema-valid, 30 MB, seconds to parse and read.
    return in_sporsmal(XHTML_DIV + b"<br/>" * 6_000_000 + b"</div>")


def _text_50_mb(_: Workspace) -> bytes:
    return in_sporsmal(b"A" * (50 * MB))


def _text_15_mb(_: Workspace) -> bytes:
    return in_sporsmal(b"A" * (15 * MB))


def _text_15_mb_as_tail(_: Workspace) -> bytes:
    # The text follows an element inside the body: a tail, not the text of any element.
    return in_sporsmal(XHTML_DIV + b"<br/>" + b"A" * (15 * MB) + b"</div>")


def _text_12_mb_in_two_byte_characters(_: Workspace) -> bytes:
    # Six million characters, twelve million UTF-8 bytes: libxml2's limit counts bytes.
    return in_sporsmal("ø".encode() * (6 * MB))


def _base64_container_in_sporsmal(_: Workspace) -> bytes:
    # A Base64Container, but in the citizen's text rather than in an attachment Document.
    container = b'<Base64Container xmlns="' + BASE64_NAMESPACE + b'">' + b"A" * (15 * MB)
    return in_sporsmal(XHTML_DIV + container + b"</Base64Container></div>")


def _attribute_15_mb(_: Workspace) -> bytes:
    return in_sporsmal(XHTML_DIV + b'<p title="' + b"A" * (15 * MB) + b'"/></div>')


def _truncated_in_half(_: Workspace) -> bytes:
    data = example(HENVENDELSE)
    return data[: len(data) // 2]


def _truncated_after_national_id(_: Workspace) -> bytes:
    data = example(HENVENDELSE)
    return data[: data.index(NATIONAL_ID.encode()) + len(NATIONAL_ID)]


def _utf8_declared_latin1_bytes(_: Workspace) -> bytes:
    # The example's "måned" and "Fødselsnummer" in ISO-8859-1 under a UTF-8 declaration.
    data = edited(example(HENVENDELSE), "måned".encode(), "måned".encode("latin-1"))
    return edited(data, "Fødselsnummer".encode(), "Fødselsnummer".encode("latin-1"))


def _utf16_declared_on_utf8(_: Workspace) -> bytes:
    return edited(example(HENVENDELSE), b'encoding="UTF-8"', b'encoding="UTF-16"')


def _utf16_with_bom(_: Workspace) -> bytes:
    text = example(HENVENDELSE).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return text.encode("utf-16")


def _utf16_without_bom(_: Workspace) -> bytes:
    return example(HENVENDELSE).decode("utf-8").split("\n", 1)[1].encode("utf-16-be")


def _msghead_wrong_namespace(_: Workspace) -> bytes:
    return edited(example(HENVENDELSE), b"msghead/2006-05-24", b"msghead/2006-05-25")


def _msghead_without_namespace(_: Workspace) -> bytes:
    namespace = b'xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"'
    return edited(example(HENVENDELSE), namespace, b"")


def _binary_blob(_: Workspace) -> bytes:
    return attachment_bytes(64 * 1024)


def _empty(_: Workspace) -> bytes:
    return b""


def _whitespace(_: Workspace) -> bytes:
    return b" \r\n\t" * 1000


def _invalid_national_id(_: Workspace) -> bytes:
    return edited(example(HENVENDELSE), NATIONAL_ID.encode(), WRONG_CHECK_DIGIT.encode())


def _missing_patient(_: Workspace) -> bytes:
    data = example(HENVENDELSE)
    start, end = data.index(b"<Patient>"), data.index(b"</Patient>") + len(b"</Patient>")
    return data[:start] + data[end:]


def _unsupported_process(_: Workspace) -> bytes:
    return edited(
        example(HENVENDELSE),
        b'V="DIALOG_INNBYGGER_EKONTAKT" DN="Dialog med innbygger - eKontakt"',
        b'V="DIALOG_INNBYGGER_RESEPTFORNYELSE" DN="Dialog med innbygger - reseptfornyelse"',
    )


def _national_id_as_process(_: Workspace) -> bytes:
    # A codec that quotes what it did not understand must not quote a national id.
    process = f'V="{NATIONAL_ID}"'.encode()
    return edited(example(HENVENDELSE), b'V="DIALOG_INNBYGGER_EKONTAKT"', process)


def _national_id_as_code(_: Workspace) -> bytes:
    code = f'<TypeForesp V="{NATIONAL_ID}"'.encode()
    return edited(example(HENVENDELSE), b'<TypeForesp V="HE"', code)


def _huge_process_type(_: Workspace) -> bytes:
    return edited(example(HENVENDELSE), b'V="DIALOG_INNBYGGER_EKONTAKT"', b'V="' + b"X" * MB + b'"')


def _national_id_in_gendate(_: Workspace) -> bytes:
    # libxml2 quotes a value it cannot read as a date; the quote must not reach the sender.
    return edited(
        example(HENVENDELSE),
        b"<GenDate>2019-05-20T18:04:12.0Z</GenDate>",
        f"<GenDate>Line O'Danser {NATIONAL_ID} '</GenDate>".encode(),
    )


def _gendate_before_year_one_in_utc(_: Workspace) -> bytes:
    # Valid as xs:dateTime, but 14 hours east of UTC on the first day of year 1 is an
    # instant Python cannot hold: refused, not an OverflowError.
    return edited(
        example(HENVENDELSE),
        b"<GenDate>2019-05-20T18:04:12.0Z</GenDate>",
        b"<GenDate>0001-01-01T00:00:00+14:00</GenDate>",
    )


def _msg_id_not_uuid(_: Workspace) -> bytes:
    return edited(
        example(HENVENDELSE),
        b"<MsgId>b6cd42ac-21d1-4706-b229-2d2697fcbb4f</MsgId>",
        b"<MsgId>melding-nummer-1</MsgId>",
    )


def _xcal_freq_monthly(_: Workspace) -> bytes:
    return edited(example(BESTILTE_TIMER), b"<freq>WEEKLY</freq>", b"<freq>MONTHLY</freq>")


def with_cancellation_reason(reason: str) -> bytes:
    """:data:`AVBESTILLING_BEKREFTET` with ``x-cancellation-reason`` on its appointment."""
    prop = f"<x-cancellation-reason><text>{reason}</text></x-cancellation-reason>"
    return edited(
        example(AVBESTILLING_BEKREFTET),
        b"</properties>\n\t\t\t\t\t\t\t\t<components/>",
        prop.encode() + b"</properties>\n\t\t\t\t\t\t\t\t<components/>",
    )


def _invalid_cancellation_reason(_: Workspace) -> bytes:
    return with_cancellation_reason("Avlyst fordi det regnet")


# ---------------------------------------------------------------- the corpus

_DTD = r"document type declaration|DTD"
_TOO_LONG = r"text in \w+ is longer than 10000000 bytes; only the Base64Container"

CASES: tuple[HostileCase, ...] = (
    HostileCase("xxe-local-file", _xxe, NotWellFormed, _DTD),
    HostileCase("xxe-after-comment-and-pi", _xxe_after_comment_and_pi, NotWellFormed, _DTD),
    HostileCase("xxe-after-utf8-bom", _xxe_after_utf8_bom, NotWellFormed, _DTD),
    HostileCase("xxe-in-utf16-without-bom", _xxe_in_utf16_without_bom, NotWellFormed, r"UTF-8"),
    HostileCase("external-dtd-http", _external_dtd_http, NotWellFormed, _DTD),
    HostileCase("external-dtd-public-http", _external_dtd_public_http, NotWellFormed, _DTD),
    HostileCase("external-dtd-local-path", _external_dtd_local_path, NotWellFormed, _DTD),
    HostileCase("billion-laughs", _billion_laughs, NotWellFormed, _DTD),
    HostileCase("parameter-entities-exfiltration", _parameter_entities, NotWellFormed, _DTD),
    HostileCase("parameter-entity-local-dtd", _parameter_entity_local_dtd, NotWellFormed, _DTD),
    HostileCase("nesting-300-deep", _deep_nesting, NotWellFormed, r"nested deeper than 256"),
    HostileCase(
        "nesting-2000-deep-after-large-attachment",
        _deep_nesting_after_large_attachment,
        NotWellFormed,
        r"nested deeper than 256",
    ),
    HostileCase(
        "element-flood-after-large-attachment",
        _element_flood_after_large_attachment,
        SchemaViolation,
        r"Element 'a': This element is not expected",
    ),
    HostileCase("element-flood-6-million", _element_flood, NotWellFormed, r"tags; the limit is"),
    HostileCase("text-50mb-in-sporsmal", _text_50_mb, NotWellFormed, r"bytes; the limit is"),
    HostileCase("text-15mb-in-sporsmal", _text_15_mb, NotWellFormed, r"text in Sporsmal is longer"),
    HostileCase("text-15mb-tail-in-xhtml-body", _text_15_mb_as_tail, NotWellFormed, _TOO_LONG),
    HostileCase(
        "text-12mb-two-byte-chars-in-sporsmal",
        _text_12_mb_in_two_byte_characters,
        NotWellFormed,
        r"text in Sporsmal is longer",
    ),
    HostileCase(
        "base64container-15mb-in-sporsmal",
        _base64_container_in_sporsmal,
        NotWellFormed,
        r"text in Base64Container is longer",
    ),
    HostileCase("attribute-15mb", _attribute_15_mb, NotWellFormed, r"limit exceeded"),
    HostileCase("truncated-in-half", _truncated_in_half, NotWellFormed, r"not well-formed XML"),
    HostileCase(
        "truncated-after-national-id",
        _truncated_after_national_id,
        NotWellFormed,
        r"not well-formed XML: Premature end of data in tag Id",
    ),
    HostileCase(
        "utf8-declared-latin1-bytes", _utf8_declared_latin1_bytes, NotWellFormed, r"encoding"
    ),
    HostileCase(
        "utf16-declared-on-utf8-bytes",
        _utf16_declared_on_utf8,
        NotWellFormed,
        r"encoding 'UTF-16' is not accepted; use UTF-8",
    ),
    HostileCase("utf16-with-bom", _utf16_with_bom, NotWellFormed, r"UTF-16/32 byte order mark"),
    HostileCase("utf16-without-bom", _utf16_without_bom, NotWellFormed, r"not XML in UTF-8"),
    HostileCase(
        "msghead-wrong-namespace",
        _msghead_wrong_namespace,
        SchemaViolation,
        r"root element is not MsgHead \(namespace",
    ),
    HostileCase(
        "msghead-without-namespace",
        _msghead_without_namespace,
        SchemaViolation,
        r"root element is not MsgHead \(namespace",
    ),
    HostileCase("binary-blob", _binary_blob, NotWellFormed, r"not XML in UTF-8"),
    HostileCase("empty-document", _empty, NotWellFormed, r"document is empty"),
    HostileCase("whitespace-only", _whitespace, NotWellFormed, r"document is empty"),
    HostileCase(
        "invalid-national-id-in-patient",
        _invalid_national_id,
        SchemaViolation,
        r"^Patient \(line \d+\): id: national id: second check digit",
    ),
    HostileCase(
        "missing-patient-in-citizen-message",
        _missing_patient,
        SchemaViolation,
        r"citizen_message needs the citizen in MsgInfo/Patient",
    ),
    HostileCase(
        "unsupported-process-reseptfornyelse",
        _unsupported_process,
        UnsupportedProcess,
        r"unsupported process 'DIALOG_INNBYGGER_RESEPTFORNYELSE'",
    ),
    HostileCase(
        "national-id-as-process-type",
        _national_id_as_process,
        UnsupportedProcess,
        r"unsupported process '\*{11}'",
    ),
    HostileCase(
        "national-id-as-dialog-code",
        _national_id_as_code,
        UnsupportedProcess,
        r"with code '\*{11}' is not served",
    ),
    HostileCase(
        "one-megabyte-process-type",
        _huge_process_type,
        UnsupportedProcess,
        r"unsupported process 'X+…$",
    ),
    HostileCase(
        "national-id-in-gendate",
        _national_id_in_gendate,
        SchemaViolation,
        r"Element 'GenDate': '…' is not a valid value of the atomic type 'xs:dateTime'",
    ),
    HostileCase("msg-id-not-uuid", _msg_id_not_uuid, SchemaViolation, r"MsgId must be a UUID"),
    HostileCase(
        "gendate-out-of-range",
        _gendate_before_year_one_in_utc,
        SchemaViolation,
        r"^MsgInfo/GenDate: timestamp out of range",
    ),
    HostileCase(
        "xcal-freq-monthly",
        _xcal_freq_monthly,
        SchemaViolation,
        r"only DAILY and WEEKLY recurrences are supported, not 'MONTHLY'",
    ),
    HostileCase(
        "invalid-x-cancellation-reason",
        _invalid_cancellation_reason,
        SchemaViolation,
        r"\[facet 'enumeration'\] The value '…' is not an element of the set "
        r"\{'Avlyst av tjeneste'",
    ),
)
"""Every hostile case; ``tests/test_hostile_input.py`` runs each as its own test."""

LEAKS: tuple[str, ...] = (NATIONAL_ID, WRONG_CHECK_DIGIT, SECRET_MARKER)
"""Strings no error text may ever contain."""
