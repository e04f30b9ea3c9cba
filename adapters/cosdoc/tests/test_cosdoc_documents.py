"""Latin-1 documents: character references for everything outside Latin-1, nothing lost."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digidialog.errors import InvalidRequest, MalformedReply
from digidialog_cosdoc import documents
from digidialog_cosdoc.mock.answers import avtale_fields
from digidialog_cosdoc.mock.export import avtale_xml
from digidialog_cosdoc.mock.state import Avtale
from digidialog_cosdoc.wire import Kommando, d

SAMI_AND_EMOJI = "Sámi: Áilu Ŋuolla, Đuommá, Ŧeahkká; emoji 👵🏽🏠; Кирилл; 東京; «ø æ å»"

# Every character XML 1.0 can carry: tab, line feed, carriage return and the ranges of
# the Char production (no other C0 controls, no surrogates, no U+FFFE/U+FFFF).
XML_TEXT = st.text(st.characters(
    codec="utf-8",
    exclude_categories=("Cs",),
    exclude_characters="".join(chr(c) for c in range(32) if c not in (9, 10, 13))
    + "\ufffe\uffff",
))


def test_non_latin1_travels_as_character_references() -> None:
    """ŋ and emoji are written as &#NNN; in a Latin-1 document, never as '?'."""
    data = documents.build(Kommando.SEND_MELDING, [("Tekst", SAMI_AND_EMOJI)])
    assert data.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    assert b"&#330;" in data  # Ŋ
    assert b"&#128117;" in data  # 👵
    assert b"?" not in data.split(b"?>", 1)[1]
    assert "Sámi".encode("latin-1") in data  # Latin-1 letters stay plain bytes


def test_round_trip_keeps_every_character() -> None:
    """Built, then read with the hardened parser: the same text, line ends included."""
    text = SAMI_AND_EMOJI + "\r\nlinje to\ttab\r siste\x85\xa0"
    root = documents.read(documents.build(Kommando.SEND_MELDING, [("Tekst", text)]),
                          Kommando.SEND_MELDING)
    assert root.findtext(d("Tekst")) == text


@given(XML_TEXT)
def test_any_xml_text_round_trips(text: str) -> None:
    """Any text XML can carry survives Latin-1 with character references unchanged."""
    root = documents.read(documents.build(Kommando.SEND_MELDING, [("Tekst", text)]),
                          Kommando.SEND_MELDING)
    assert (root.findtext(d("Tekst")) or "") == text


def test_a_character_xml_cannot_carry_is_refused_without_showing_the_text() -> None:
    """A control character cannot travel at all: InvalidRequest naming the field only."""
    with pytest.raises(InvalidRequest) as caught:
        documents.build(Kommando.SEND_MELDING, [("Tekst", "Hemmelig\x07tekst")])
    assert "Tekst" in str(caught.value)
    assert "Hemmelig" not in str(caught.value)


def test_nested_fields_and_omitted_ones() -> None:
    """Children are written in the order given; None leaves a field out."""
    data = documents.build(Kommando.SEND_MELDING, [
        ("EksternId", "x"), ("SvarPa", None),
        ("Sendt", [("Dato", "2026-03-02"), ("Kl", "08:15")]),
    ])
    root = documents.read(data, Kommando.SEND_MELDING)
    assert [child.tag for child in root] == [d("EksternId"), d("Sendt")]
    assert [child.text for child in root[1]] == ["2026-03-02", "08:15"]


@pytest.mark.parametrize(
    "data",
    [
        b"<?xml version='1.0' encoding='ISO-8859-1'?><AVTALER xmlns='urn:cosdoc:dokument:1'/>",
        b"<SEND_MELDING xmlns='urn:other'/>",
        b"<!DOCTYPE x [<!ENTITY e 'boom'>]><SEND_MELDING xmlns='urn:cosdoc:dokument:1'>&e;"
        b"</SEND_MELDING>",
        b"not xml at all",
        b"",
    ],
    ids=["another command", "another namespace", "dtd", "not xml", "empty"],
)
def test_reading_refuses_what_is_not_the_answer(data: bytes) -> None:
    """Wrong root, wrong namespace, a DTD or no XML: MalformedReply."""
    with pytest.raises(MalformedReply):
        documents.read(data, Kommando.SEND_MELDING)


def test_base64_with_line_breaks_is_read_and_junk_is_refused() -> None:
    """xs:base64Binary may be broken into lines; anything outside the alphabet is refused."""
    encoded = base64.encodebytes(b"x" * 200).decode()
    assert "\n" in encoded
    assert documents.decode_base64(encoded) == b"x" * 200
    with pytest.raises(MalformedReply):
        documents.decode_base64("QUJD$$==")
    with pytest.raises(MalformedReply):
        documents.decode_base64("QUJDR")


def test_the_mocks_fast_export_writer_matches_lxml() -> None:
    """The streamed export's record writer produces the bytes documents.build produces."""
    avtale = Avtale(nr=5, pasient_nr=7, tjeneste_id=101, status="U", dato=date(2026, 3, 2),
                    fra_kl="08:00", til_kl="08:30", gjentas=False, ansatt="Ánte Ŋuolla",
                    tekst=SAMI_AND_EMOJI + " <&> \r\n\"'", utfort_kl="08:29:59")
    built = documents.build(Kommando.EKSPORT_AVTALER, [("Avtale", avtale_fields(avtale))])
    start = built.index(b"<Avtale>")
    assert avtale_xml(avtale) == built[start : built.index(b"</EKSPORT_AVTALER>")]
