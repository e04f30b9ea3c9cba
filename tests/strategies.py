"""Hypothesis strategies for digidialog's domain and Helsenorge messages.

Import them in any test: ``from tests.strategies import national_ids, portal_messages``.
Every strategy builds values that the models accept; :func:`portal_messages` builds, for each
served (process, code) route and for receipts, messages in the canonical form
the codecs write, so that ``decode(encode(m)) == m`` is the property to hold.

What "canonical" leaves out, and why:

- Text never holds characters XML 1.0 cannot carry (C0 controls other than tab
  and newline, lone surrogates, U+FFFE, U+FFFF) nor a carriage return: an XML
  parser turns every CR and CRLF into LF (XML 1.0 section 2.11), so a CR can
  never survive a trip through any XML document.
- Values the readers strip (names, ids, xCal text properties, HER-ids) are
  generated without surrounding whitespace; a name is words joined by single
  spaces, since the Forfatter is split into given and family name at a space.
- Optional strings whose empty value reads back as absent (an xCal
  ``description``, an attachment's description, a middle name, ...) are
  ``None`` or non-empty.
- Each message carries only the fields its route writes (no appointments on a
  refusal, ``interim`` only on a service reply ``19``, the ART text in
  ``cancellation.reason`` rather than ``body``); fields a route does not carry
  are not written, so they could not come back.
- Timestamps are aware, 1970-2099, microseconds included, in assorted zones
  (UTC, Europe/Oslo with either fold, fixed and odd offsets); expected
  durations are whole seconds, as RFC 5545 durations are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume
from hypothesis import strategies as st
from lxml import etree

from digidialog.domain import (
    ApplicationReceipt,
    Appointment,
    AppointmentStatus,
    BodyFormat,
    CancellationKind,
    CancellationOutcome,
    CancellationReason,
    CancellationRequest,
    DigitalStatus,
    Frequency,
    IdKind,
    OnBehalfOf,
    OverviewEntry,
    ReceiptError,
    ReceiptStatus,
    Recurrence,
    Relation,
    Weekday,
)
from digidialog.domain.attachments import Attachment
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge.apprec import STATUS_CODES
from digidialog.helsenorge.encoder import carries
from digidialog.helsenorge.message import (
    Conversation,
    Function,
    Party,
    Patient,
    PortalMessage,
    Representative,
)
from digidialog.helsenorge.processes import ROUTES, Process, Route, Slot

XHTML = "http://www.w3.org/1999/xhtml"

# ---------------------------------------------------------------- text

SAMI_AND_FRIENDS = (
    "ŋŊŧŦđĐáÁčČšŠžŽʒƷǯǮïÏ"  # Sámi (North, Lule, South, Skolt)
    "æøåÆØÅ"  # Norwegian
    "ЖжЁёЩщЮюЯя"  # Cyrillic (Skolt Sámi is also written in it)
    "漢字日本語한국어"  # CJK
    "😀🧑🏽‍⚕️🇳🇴"  # emoji, astral plane, with a ZWJ and a variation selector
    "\u0301\u200b\u00ad"  # a combining accent, a zero-width space, a soft hyphen
)
"""Characters outside Latin-1 that Norwegian users write, mixed into every text."""

_SPACES = " \t\n\u00a0\u2003"


def _xml_safe(char: str) -> bool:
    # XML 1.0 Char: tab, LF, CR and U+0020 and up, minus surrogates, U+FFFE and
    # U+FFFF. CR is legal but never survives parsing (line ends are normalised
    # to LF), so it is left out as well.
    code = ord(char)
    return (char in "\t\n" or code >= 0x20) and not (0xD800 <= code <= 0xDFFF) and (
        code not in (0xFFFE, 0xFFFF)
    )


@cache
def _any_xml_char() -> st.SearchStrategy[str]:
    return st.characters(exclude_categories=("Cs", "Cc")).filter(_xml_safe)


# Leaf strategies are cached: building a text strategy costs more than drawing from it.
@cache
def xml_text(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    """Free text any XML 1.0 document can carry unchanged (no CR: see the module doc)."""
    alphabet = st.one_of(
        st.sampled_from(SAMI_AND_FRIENDS),
        st.sampled_from(_SPACES + "<>&'\"]]>"),
        _any_xml_char(),
    )
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


@cache
def stripped_text(max_size: int = 24) -> st.SearchStrategy[str]:
    """Non-empty text without surrounding whitespace (readers strip these values)."""
    return xml_text(min_size=1, max_size=max_size).map(str.strip).filter(bool)


def _not_space(char: str) -> bool:
    return not char.isspace()


def _no_leading_gt(name: str) -> bool:
    return not name.startswith(">")


@cache
def _word_char() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(SAMI_AND_FRIENDS.replace("\u200b", "")),
        st.characters(min_codepoint=0x41, max_codepoint=0x7A).filter(str.isalpha),
        _any_xml_char().filter(_not_space),
    )


@cache
def words(min_words: int = 1, max_words: int = 3) -> st.SearchStrategy[str]:
    """Words joined by single spaces: no leading, trailing or double spaces.

    No character of a word is whitespace in Python's sense (which is wider than
    XML's), since readers strip each name part with ``str.strip``.
    """
    word = st.text(alphabet=_word_char(), min_size=1, max_size=8)
    return st.lists(word, min_size=min_words, max_size=max_words).map(" ".join)


def person_names() -> st.SearchStrategy[str]:
    """A given, middle or family name, or a staff member's full name."""
    return words(1, 3)


@cache
def organisation_names() -> st.SearchStrategy[str]:
    """An organisation's name. A leading '>' is left out: AppRec reading repairs
    the official example's ">Kattskinnet legesenter" by dropping it."""
    return words(1, 4).filter(_no_leading_gt)


@cache
def digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """A string of ASCII digits, not starting with 0."""
    return st.integers(10 ** (min_size - 1), 10**max_size - 1).map(str)


@cache
def her_ids() -> st.SearchStrategy[str]:
    """A HER-id as Adresseregisteret prints it."""
    return digits(3, 9)


@cache
def service_ids() -> st.SearchStrategy[str]:
    """A TjenesteId."""
    return st.one_of(
        digits(1, 4),
        st.text(alphabet="ABCXYZabcxyz019_-", min_size=1, max_size=8).map("T{}".format),
    )


@cache
def msg_ids() -> st.SearchStrategy[str]:
    """A MsgId (UUID)."""
    return st.uuids().map(str)


# ---------------------------------------------------------------- national ids

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def mod11_check_digit(body: str, weights: Sequence[int]) -> int | None:
    """11 - (weighted sum mod 11); 11 becomes 0; 10 means no valid number has this body."""
    check = 11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def _individual_numbers(year: int) -> st.SearchStrategy[int]:
    # The individual number tells the century (Skatteetaten's allocation rules).
    if year < 1900:
        return st.integers(500, 749)
    if year < 2000:
        high = [st.integers(900, 999)] if year % 100 >= 40 else []
        return st.one_of(st.integers(0, 499), *high)
    return st.integers(500, 999)


@st.composite
def national_ids(
    draw: st.DrawFn, kind: IdKind | None = None, *, synthetic: bool | None = False
) -> str:
    """A fødselsnummer or D-number (day + 40) with both mod-11 check digits right.

    ``synthetic`` True gives Tenor test ids (month + 80), None either kind.
    """
    chosen = kind if kind is not None else draw(st.sampled_from(IdKind))
    tenor = draw(st.booleans()) if synthetic is None else synthetic
    born = draw(st.dates(min_value=date(1854, 1, 1), max_value=date(2039, 12, 31)))
    individual = draw(_individual_numbers(born.year))
    day = born.day + (40 if chosen is IdKind.DNR else 0)
    month = born.month + (80 if tenor else 0)
    body = f"{day:02d}{month:02d}{born.year % 100:02d}{individual:03d}"
    k1 = mod11_check_digit(body, K1_WEIGHTS)
    assume(k1 is not None)
    k2 = mod11_check_digit(f"{body}{k1}", K2_WEIGHTS)
    assume(k2 is not None)
    return f"{body}{k1}{k2}"


# ---------------------------------------------------------------- time

_ZONES: list[tzinfo] = [
    UTC,
    OSLO,
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-3, minutes=-30)),
    timezone(timedelta(hours=5, minutes=45)),
]


_ODD_ZONES: list[tzinfo] = [
    ZoneInfo(key)
    for key in ("America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham")
]
"""Zones with odd offsets and daylight-saving rules of their own (Lord Howe shifts 30 min)."""


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def dst_transition(year: int, spring: bool) -> datetime:
    """The instant Oslo's clocks change: 01:00 UTC on the last Sunday of March or October."""
    day = _last_sunday(year, 3 if spring else 10)
    return datetime.combine(day, time(1, 0), tzinfo=UTC)


@st.composite
def _in_some_zone(draw: st.DrawFn, instant: datetime) -> datetime:
    # The same instant as UTC, on the Oslo clock (fold set by astimezone) or at a fixed offset.
    zone = draw(st.sampled_from(_ZONES))
    return instant.astimezone(zone)


@st.composite
def dst_datetimes(draw: st.DrawFn) -> datetime:
    """Instants within two hours of an Oslo daylight-saving change.

    Covers the skipped spring hour's neighbourhood and both passes through the
    repeated autumn hour (02:00-03:00 at +02:00, then again at +01:00).
    """
    transition = dst_transition(draw(st.integers(2024, 2030)), draw(st.booleans()))
    offset = draw(st.integers(-7200, 7200 - 1))
    micro = draw(st.sampled_from([0, 0, 1, 500_000, 999_999]))
    return draw(_in_some_zone(transition + timedelta(seconds=offset, microseconds=micro)))


@cache
def plain_datetimes() -> st.SearchStrategy[datetime]:
    """Aware datetimes, microseconds included, in assorted zones, 1970-2099."""
    return st.datetimes(
        # naive bounds, as datetimes() takes them; the zone comes from ``timezones``
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2099, 12, 30),
        timezones=st.sampled_from(_ZONES + _ODD_ZONES),
    )


@cache
def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Any aware instant, with daylight-saving edges drawn often."""
    return st.one_of(plain_datetimes(), dst_datetimes())


# ---------------------------------------------------------------- people and parties


@st.composite
def patients(draw: st.DrawFn) -> Patient:
    """A citizen: FNR or D-number, names in any script, sometimes a middle name."""
    return Patient(
        id=draw(national_ids(synthetic=None)),
        given_name=draw(person_names()),
        family_name=draw(person_names()),
        middle_name=draw(st.none() | person_names()),
    )


@st.composite
def representatives(draw: st.DrawFn) -> Representative:
    """A relative acting for the citizen with a fullmakt, parental rights or guardianship."""
    person = draw(patients())
    return Representative(**person.model_dump(), relation=draw(st.sampled_from(Relation)))


@st.composite
def parties(draw: st.DrawFn, *, one_ident_per_level: bool = False) -> Party:
    """Sender or receiver with one or two levels, each known by HER-id, org number or both.

    AppRec carries one Id per level, so ``one_ident_per_level`` leaves out "both".
    """
    levels = draw(st.integers(1, 2))
    kinds = ["her", "org"] if one_ident_per_level else ["her", "org", "both"]
    her: list[str | None] = []
    org: list[str | None] = []
    for _ in range(levels):
        kind = draw(st.sampled_from(kinds))
        her.append(draw(her_ids()) if kind in ("her", "both") else None)
        org.append(draw(digits(9, 9)) if kind in ("org", "both") else None)
    return Party(
        her_ids=tuple(her),
        names=tuple(draw(organisation_names()) for _ in range(levels)),
        # Canonical form: no org numbers at all is (), never (None, None).
        org_numbers=tuple(org) if any(o is not None for o in org) else (),
    )


def conversations() -> st.SearchStrategy[Conversation]:
    """A ConversationRef: the message answered and the thread's first message."""
    return st.builds(Conversation, parent=msg_ids(), root=msg_ids())


def attachments() -> st.SearchStrategy[Attachment]:
    """A small attached file of random bytes."""
    return st.builds(
        Attachment,
        mime_type=st.sampled_from(["application/pdf", "image/jpeg", "image/png", "text/plain"]),
        description=st.none() | xml_text(min_size=1, max_size=30),
        data=st.binary(max_size=96),
    )


# ---------------------------------------------------------------- bodies


_INLINE = ("b", "i", "em", "strong", "span", "a")
_BLOCK = ("p", "ul", "ol")


@st.composite
def xhtml_bodies(draw: st.DrawFn) -> str:
    """An XHTML body: one ``<div xmlns="http://www.w3.org/1999/xhtml">``, as lxml writes it.

    Built as a tree and serialised by lxml, so the string is already in the
    form the reader gives back (empty text is None, not "", hence ``or None``).
    """
    div = etree.Element(f"{{{XHTML}}}div", nsmap={None: XHTML})  # type: ignore[dict-item]
    div.text = draw(xml_text(max_size=20)) or None
    for _ in range(draw(st.integers(1, 3))):
        block_tag = draw(st.sampled_from(_BLOCK))
        block = etree.SubElement(div, f"{{{XHTML}}}{block_tag}")
        if block_tag in ("ul", "ol"):
            for _ in range(draw(st.integers(1, 3))):
                etree.SubElement(block, f"{{{XHTML}}}li").text = draw(xml_text()) or None
        else:
            block.text = draw(xml_text()) or None
            for _ in range(draw(st.integers(0, 2))):
                tag = draw(st.sampled_from((*_INLINE, "br")))
                inline = etree.SubElement(block, f"{{{XHTML}}}{tag}")
                if tag == "a":
                    inline.set("href", "https://www.helsenorge.no/?a=1&b=" + draw(words(1, 1)))
                if tag != "br":
                    inline.text = draw(xml_text(max_size=15)) or None
                inline.tail = draw(xml_text(max_size=15)) or None
        block.tail = draw(st.sampled_from(["\n", "  ", ""])) or None
    return etree.tostring(div, encoding="unicode")


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str | None, BodyFormat]:
    """A message body and its format: none, plain text, or an XHTML div."""
    kind = draw(st.sampled_from(["none", "text", "xhtml"]))
    if kind == "none":
        return None, BodyFormat.TEXT
    if kind == "text":
        return draw(xml_text(max_size=80)), BodyFormat.TEXT
    return draw(xhtml_bodies()), BodyFormat.XHTML


# ---------------------------------------------------------------- appointments


@st.composite
def time_spans(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """Start and end (end >= start), often across an Oslo daylight-saving change."""
    if draw(st.booleans()):
        start = draw(aware_datetimes())
    else:
        # Start up to three hours before a change, so the span crosses it.
        transition = dst_transition(draw(st.integers(2024, 2030)), draw(st.booleans()))
        before = timedelta(seconds=draw(st.integers(1, 3 * 3600)))
        start = draw(_in_some_zone(transition - before))
    length = timedelta(
        seconds=draw(st.integers(0, 6 * 3600)), microseconds=draw(st.integers(0, 999_999))
    )
    # Add in UTC: arithmetic on a zoneinfo datetime is wall-clock arithmetic that
    # drops fold, so 02:20 (second pass) + 30 min would land before the start.
    end = draw(_in_some_zone(start.astimezone(UTC) + length))
    return start, end


@st.composite
def recurrences(draw: st.DrawFn, first: datetime | None = None) -> Recurrence:
    """DAILY or WEEKLY, an interval, weekdays, until or count, and paused occurrences."""
    frequency = draw(st.sampled_from(Frequency))
    by_day: tuple[Weekday, ...] = ()
    if frequency is Frequency.WEEKLY or draw(st.booleans()):
        by_day = tuple(draw(st.lists(st.sampled_from(Weekday), unique=True, max_size=7)))
    end = draw(st.sampled_from(["none", "until", "count"]))
    base = first or datetime(2026, 1, 1, 8, tzinfo=OSLO)
    paused_at = st.integers(1, 60).map(lambda n: base + timedelta(days=n))
    return Recurrence(
        frequency=frequency,
        interval=draw(st.integers(1, 4) | st.integers(1, 366)),
        by_day=by_day,
        until=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)))
        if end == "until"
        else None,
        count=draw(st.integers(1, 500)) if end == "count" else None,
        paused=tuple(draw(st.lists(st.one_of(paused_at, dst_datetimes()), max_size=3))),
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def appointments(draw: st.DrawFn, status: AppointmentStatus | None = None) -> Appointment:
    """A home visit in any of its four states, shaped as Helsenorge shows it.

    Planned visits may recur and have an expected duration; assigned and
    completed ones name employees; completed ones may say when; cancelled
    ones may say by whom.
    """
    chosen = status if status is not None else draw(st.sampled_from(AppointmentStatus))
    start, end = draw(time_spans())
    planned = chosen is AppointmentStatus.PLANNED
    return Appointment(
        uid=draw(st.one_of(msg_ids(), stripped_text(max_size=30))),
        series=draw(_optional(st.one_of(msg_ids(), stripped_text()))),
        status=chosen,
        start=start,
        end=end,
        service_id=draw(_optional(service_ids())),
        service_name=draw(_optional(stripped_text())),
        employees=()
        if planned
        else tuple(draw(st.lists(person_names(), max_size=3))),
        expected_duration=draw(
            _optional(st.integers(1, 3 * 86400).map(lambda s: timedelta(seconds=s)))
        ),
        recurrence=draw(_optional(recurrences(start))) if planned else None,
        cancellation_reason=draw(_optional(st.sampled_from(CancellationReason)))
        if chosen is AppointmentStatus.CANCELLED
        else None,
        description=draw(_optional(stripped_text(max_size=40))),
        completed_at=draw(_optional(aware_datetimes()))
        if chosen is AppointmentStatus.COMPLETED
        else None,
        contact_her_id=draw(_optional(her_ids())),
        organizer=draw(_optional(organisation_names())),
        location=draw(_optional(st.just("Hjemmebesøk") | stripped_text())),
    )


@st.composite
def cancellations(draw: st.DrawFn, kind: CancellationKind | None = None) -> CancellationRequest:
    """A citizen's cancellation: one appointment, or a period for one or more services.

    It names its own MsgId, citizen and (sometimes) the relative asking; a message
    carrying it takes those from it (see :func:`route_messages`).
    """
    chosen = kind if kind is not None else draw(st.sampled_from(CancellationKind))
    start, end = draw(time_spans())
    reason = draw(_optional(xml_text(max_size=60)))
    contact = draw(_optional(her_ids()))
    representative = draw(_optional(representatives()))
    whose: dict[str, Any] = {
        "request_id": draw(msg_ids()),
        "citizen_id": draw(national_ids(synthetic=None)),
        "requested_by": None if representative is None else representative.to_on_behalf_of(),
    }
    if chosen is CancellationKind.PERIOD:
        services = draw(st.lists(service_ids(), min_size=1, max_size=4, unique=True))
        return CancellationRequest(kind=chosen, start=start, end=end,
                                   service_ids=tuple(services), reason=reason,
                                   contact_her_id=contact, **whose)
    return CancellationRequest(
        kind=chosen,
        start=start,
        end=end,
        appointment_uid=draw(st.one_of(msg_ids(), stripped_text(max_size=30))),
        series=draw(_optional(msg_ids())),
        service_ids=tuple(draw(st.lists(service_ids(), max_size=1))),
        reason=reason,
        contact_her_id=contact,
        **whose,
    )


def _representative(asked_by: OnBehalfOf | None) -> Representative | None:
    """The Pasientrelasjon saying who asked on the citizen's behalf."""
    if asked_by is None:
        return None
    person = asked_by.person
    return Representative(id=person.national_id, given_name=person.given_name,
                          family_name=person.family_name, middle_name=person.middle_name,
                          relation=asked_by.relation)


# ---------------------------------------------------------------- other payloads


@st.composite
def overview_entries(draw: st.DrawFn) -> OverviewEntry:
    """One service in a TjenesteOversikt."""
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)))
    return OverviewEntry(
        service_id=draw(service_ids()),
        name=draw(stripped_text()),
        her_id=draw(digits(1, 9)),
        start=start,
        end=draw(_optional(st.dates(min_value=start, max_value=date(2099, 1, 1)))),
        area=draw(st.just("1") | digits(1, 2)),
        delivered_by=draw(_optional(xml_text(max_size=30))),
        phone=draw(_optional(st.from_regex(r"tel:\+47[0-9]{8}", fullmatch=True))),
        url=draw(_optional(st.from_regex(r"https://[a-z]{3,10}\.kommune\.no/[a-z]{0,8}",
                                         fullmatch=True))),
    )


_ANSWERED_PROCESSES = [p.value for p in Process if p is not Process.APPREC]


@st.composite
def receipts(draw: st.DrawFn) -> ApplicationReceipt:
    """An AppRec's content: status, errors from code system 8221, the original message."""
    status = draw(st.sampled_from(ReceiptStatus))
    errors = (
        ()
        if status is ReceiptStatus.OK
        else tuple(
            draw(
                st.lists(
                    st.builds(
                        ReceiptError,
                        code=st.sampled_from(["T01", "T02", "E10", "E35", "X99"]),
                        text=_optional(xml_text(min_size=1, max_size=40)),
                        details=_optional(xml_text(min_size=1, max_size=40)),
                    ),
                    min_size=1,
                    max_size=3,
                )
            )
        )
    )
    return ApplicationReceipt(
        status=status,
        errors=errors,
        original_msg_id=draw(msg_ids()),
        original_process=draw(st.sampled_from(_ANSWERED_PROCESSES)),
        # Always given: AppRec needs the original's IssueDate, and a missing one is
        # written as the receipt's own GenDate (so None cannot come back).
        original_issued_at=draw(aware_datetimes()),
    )


# ---------------------------------------------------------------- whole messages

ALL_ROUTES: tuple[Route, ...] = tuple(ROUTES.values())
"""Every served (process, slot, code) triple."""

_APPOINTMENT_STATUS_BY_CODE = {
    "08": [AppointmentStatus.CANCELLED],
    "11": [AppointmentStatus.CANCELLED],
}


def route_id(route: Route) -> str:
    """A readable test id for a route."""
    return (f"{route.process.value.removeprefix('DIALOG_INNBYGGER_')}-{route.code}-"
            f"{route.function.value}")


@st.composite
def _function_fields(draw: st.DrawFn, route: Route) -> dict[str, Any]:
    """The fields a route carries besides the envelope and the Dialogmelding text."""
    function = route.function
    fields: dict[str, Any] = {}
    if function is Function.PLANNED_APPOINTMENTS_REPLY:
        fields["appointments"] = (
            tuple(draw(st.lists(appointments(), min_size=1, max_size=3)))
            if route.code == "01"
            else ()
        )
    elif function in {Function.APPOINTMENT_NOTICE, Function.BOOKING_CONFIRMATION}:
        statuses = _APPOINTMENT_STATUS_BY_CODE.get(route.code, list(AppointmentStatus))
        fields["appointments"] = tuple(
            draw(st.lists(st.sampled_from(statuses).flatmap(appointments), min_size=1,
                          max_size=3))
        )
    elif function is Function.CANCELLATION_REQUEST:
        fields["cancellation"] = draw(cancellations())
    elif function is Function.CANCELLATION_REPLY:
        accepted = route.code == "08"
        fields["decision"] = (
            CancellationOutcome.ACCEPTED if accepted else CancellationOutcome.REJECTED
        )
        fields["appointments"] = tuple(draw(st.lists(appointments(), max_size=2)))
    elif function is Function.DIGITAL_STATUS_CHANGE:
        fields["digital_status"] = draw(st.sampled_from(DigitalStatus))
    elif function is Function.DIGITAL_STATUS_QUERY or (
        function is Function.DIGITAL_STATUS_REPLY and route.code == "28"
    ):
        fields["persons"] = tuple(draw(st.lists(patients(), min_size=1, max_size=4)))
    elif function is Function.SERVICE_OVERVIEW:
        fields["services"] = tuple(
            draw(st.lists(overview_entries(), max_size=4, unique_by=attrgetter("service_id")))
        )
    return fields


@st.composite
def route_messages(
    draw: st.DrawFn, /, route: Route, **overrides: st.SearchStrategy[Any]
) -> PortalMessage:
    """A message on ``route`` with every field that route carries, in canonical form.

    ``overrides`` replace the strategy of any field, e.g.
    ``route_messages(route, on_behalf_of=representatives())``.
    """
    function = route.function
    patient: Patient | None = draw(patients())
    if not route.needs_patient:
        patient = draw(st.none() | st.just(patient))
    fields: dict[str, Any] = {
        "process": route.process.value,
        "function": function,
        "code": route.code,
        "msg_id": draw(msg_ids()),
        "generated_at": draw(aware_datetimes()),
        "ack": draw(st.booleans()),
        "conversation": draw(_optional(conversations())),
        "sender": draw(parties()),
        "receiver": draw(parties()),
        "patient": patient,
        "on_behalf_of": (
            draw(_optional(representatives())) if carries(function, "on_behalf_of") else None
        ),
        "attachments": (
            tuple(draw(st.lists(attachments(), max_size=2)))
            if carries(function, "attachments") else ()
        ),
    }
    if route.slot is not Slot.NONE:
        if function is Function.CANCELLATION_REQUEST:
            body, body_format = None, BodyFormat.TEXT  # the reason travels in the cancellation
        else:
            body, body_format = draw(bodies())
        fields.update(
            subject=draw(_optional(xml_text(max_size=40))),
            body=body,
            body_format=body_format,
            author=draw(_optional(person_names())),
            # digidialog's convention: an interim answer is a Notat remark ("Foreløpig svar").
            interim=draw(st.booleans()) if function is Function.SERVICE_REPLY else False,
        )
    fields.update(draw(_function_fields(route)))
    fields.update({name: draw(strategy) for name, strategy in overrides.items()})
    request = fields.get("cancellation")
    if isinstance(request, CancellationRequest):
        # An ART's envelope says whose request it is (MsgId, patient, relative): a request
        # the caller fixed gives the envelope those; otherwise the request takes them.
        if "cancellation" in overrides:
            fields["msg_id"] = request.request_id
            fields["patient"] = Patient.model_validate(
                {**dict(fields["patient"]), "id": request.citizen_id})
            fields["on_behalf_of"] = _representative(request.requested_by)
        else:
            representative = fields["on_behalf_of"]
            fields["cancellation"] = CancellationRequest.model_validate({
                **dict(request), "request_id": fields["msg_id"],
                "citizen_id": fields["patient"].id,
                "requested_by": None if representative is None
                else representative.to_on_behalf_of(),
            })
    return PortalMessage(**fields)


@st.composite
def receipt_messages(draw: st.DrawFn) -> PortalMessage:
    """An AppRec as a message: no patient, no Dialogmelding, never acknowledged."""
    receipt = draw(receipts())
    return PortalMessage(
        process=Process.APPREC.value,
        function=Function.RECEIPT,
        code=STATUS_CODES[receipt.status],
        msg_id=draw(msg_ids()),
        generated_at=draw(aware_datetimes()),
        ack=False,
        sender=draw(parties(one_ident_per_level=True)),
        receiver=draw(parties(one_ident_per_level=True)),
        receipt=receipt,
    )


def portal_messages(function: Function | None = None) -> st.SearchStrategy[PortalMessage]:
    """Any message digidialog reads and writes, or only those doing ``function``."""
    if function is Function.RECEIPT:
        return receipt_messages()
    routes = [r for r in ALL_ROUTES if function is None or r.function is function]
    choices = st.sampled_from(routes).flatmap(route_messages)
    return st.one_of(choices, receipt_messages()) if function is None else choices
