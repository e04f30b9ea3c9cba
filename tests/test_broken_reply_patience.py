"""A feed's patience with an event whose details come back as broken replies (issue 11)."""

from __future__ import annotations

import pytest

from digidialog.adapters.patience import BROKEN_REPLY_PATIENCE, Patience
from digidialog.adapters.soap import SoapVersion
from digidialog.errors import BrokenReply, MalformedReply
from tests.test_adapter_plumbing import _endpoint, _response


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_waits_for_the_patience_from_the_first_broken_reply_then_gives_up_once() -> None:
    """Still worth trying until the patience has passed since the first broken reply; then
    given up, and a later failure of the same event starts a new wait."""
    clock = Clock()
    patience = Patience(seconds=100, clock=clock)
    assert patience.still_waiting("7")
    clock.now += 99
    assert patience.still_waiting("7")
    assert patience.still_waiting("8"), "each event has its own wait"
    clock.now += 1
    assert not patience.still_waiting("7")
    assert patience.still_waiting("7")


def test_an_event_read_at_last_is_forgotten() -> None:
    """Details read whole again: the next trouble starts a new wait."""
    clock = Clock()
    patience = Patience(seconds=100, clock=clock)
    patience.still_waiting("7")
    clock.now += 90
    patience.forget("7")
    clock.now += 90
    assert patience.still_waiting("7")


def test_the_default_patience_is_minutes_not_tries() -> None:
    """A proxy truncating replies for a few minutes costs no event."""
    assert Patience().seconds == BROKEN_REPLY_PATIENCE >= 10 * 60


@pytest.mark.parametrize(("body", "media"), [(b"<not-closed>", "text/xml"),
                                             (b"<html/>", "text/html"),
                                             (b"<Envelope/>", "text/xml")])
def test_a_reply_that_cannot_be_read_is_a_broken_reply(body: bytes, media: str) -> None:
    """The SOAP layer says so of a reply as a whole; a BrokenReply is a MalformedReply."""
    with pytest.raises(BrokenReply) as raised:
        _endpoint(SoapVersion.V11).interpret(_response(200, body, media), body)
    assert isinstance(raised.value, MalformedReply)
