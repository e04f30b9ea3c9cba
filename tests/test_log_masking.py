"""No national id, name or message text reaches a log line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from digidialog import log

FNR = "13116900216"


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """configure() points structlog at this test's captured stderr: undo it afterwards."""
    yield
    structlog.reset_defaults()


def test_personal_data_is_masked_in_every_place(capsys: pytest.CaptureFixture[str]) -> None:
    """Keys, nested values, free text and exception text are masked; correlation ids stay."""
    log.configure()
    logger = log.get_logger("test")
    try:
        raise ValueError(f"vendor said: no citizen {FNR}")
    except ValueError:
        logger.exception(
            f"delivery failed for {FNR}",
            msg_id="0b6e3d0a-1111-4c2e-9a55-2f0d8c000001",
            fnr=FNR,
            body="Kan dere bruke ny kode til nøkkelboksen?",
            details={"name": "Line Danser", "codes": [int(FNR)], "note": f"id {FNR}"},
        )
    line = capsys.readouterr().err.strip()
    event = json.loads(line)
    assert FNR not in line
    assert "Line Danser" not in line
    assert "nøkkelboksen" not in line
    assert event["msg_id"] == "0b6e3d0a-1111-4c2e-9a55-2f0d8c000001"
    assert event["fnr"] == log.MASKED
    assert event["details"]["name"] == log.MASKED
    assert log.NATIONAL_ID in event["event"]
    assert log.NATIONAL_ID in event["exception"]


def test_numbers_that_are_not_ids_pass() -> None:
    """An 11-digit number with wrong check digits (an order number, say) is not masked."""
    event = log.mask_personal_data(None, "info", {"event": "order 12345678901 stored"})
    assert event["event"] == "order 12345678901 stored"
