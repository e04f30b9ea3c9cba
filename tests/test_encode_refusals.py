"""encode refuses what it cannot write faithfully, with a clear error."""

from __future__ import annotations

from datetime import datetime

import pytest

from digidialog.domain.timezone import OSLO
from digidialog.errors import SchemaViolation
from digidialog.helsenorge import encode
from digidialog.testing import samples

SENT = datetime(2026, 11, 23, 9, 30, tzinfo=OSLO)


@pytest.mark.parametrize("text", ["bell \x07 in text", "nul \x00", "lone surrogate \ud800",
                                  "not a character \uffff"])
@pytest.mark.parametrize("validate", [True, False])
def test_characters_xml_cannot_carry_are_refused(text: str, validate: bool) -> None:
    """A control character, a lone surrogate or U+FFFF is refused, validated or not."""
    message = samples.citizen_message(SENT).model_copy(update={"body": text})
    with pytest.raises(SchemaViolation, match="cannot carry"):
        encode(message, validate=validate)


def test_markup_in_text_is_escaped_not_interpreted() -> None:
    """Angle brackets and ampersands in a plain-text body are text, not markup."""
    body = '<b>&amp; "sitat" > 3</b>\r\nneste linje'
    message = samples.citizen_message(SENT).model_copy(update={"body": body})
    from digidialog.helsenorge import decode  # noqa: PLC0415

    assert decode(encode(message)).body == body
