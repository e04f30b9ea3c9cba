"""GetVisits paging by ContinuationToken: every page read once, tokens bound to their query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from lxml import etree
from profil_support import started
from werkzeug.wrappers import Request, Response

from digidialog.domain.timezone import OSLO
from digidialog.errors import InvalidRequest, MalformedReply
from digidialog_profil.mock import wire as mock_wire
from digidialog_profil.mock.harness import ProfilHarness
from digidialog_profil.wire import tag

START = datetime(2026, 4, 6, 0, tzinfo=OSLO)


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


def _tokens(harness: ProfilHarness) -> list[str | None]:
    """The ContinuationToken of each GetVisits request, in order."""
    tokens = []
    for exchange in harness.mock.exchanges:
        if exchange.operation == "GetVisits":
            request = etree.fromstring(exchange.request)
            tokens.append(request.findtext(f".//{tag('ContinuationToken')}"))
    return tokens


def test_every_page_is_read_once_with_the_token_of_the_one_before(
        harness: ProfilHarness) -> None:
    """61 visits at 25 a page: three requests, the first without a token, each next one
    with the token the previous page ended with; nothing twice, nothing missed."""
    citizen = harness.seed_citizens(1)[0]
    seeded = harness.seed_visits(citizen, 61, START)
    found = harness.adapter().appointments(citizen, START, START + timedelta(days=5))
    assert sorted(a.uid for a in found) == sorted(v.uid for v in seeded)
    tokens = _tokens(harness)
    assert len(tokens) == 3
    assert tokens[0] is None
    replies = [etree.fromstring(e.reply) for e in harness.mock.exchanges
               if e.operation == "GetVisits"]
    handed_out = [r.findtext(f".//{tag('ContinuationToken')}") for r in replies]
    assert tokens[1:] == handed_out[:-1]
    assert handed_out[-1] is None  # absent on the last page


def test_exactly_one_page_needs_no_token(harness: ProfilHarness) -> None:
    """A page that is not full, or exactly full, is the last when it carries no token."""
    citizen = harness.seed_citizens(1)[0]
    harness.seed_visits(citizen, harness.page_size, START)
    assert len(harness.adapter().appointments(citizen, START, START + timedelta(days=2))) == 25
    assert _tokens(harness) == [None]


def test_a_token_belongs_to_its_query(harness: ProfilHarness) -> None:
    """Profil refuses a token used with another period (p:Invalid)."""
    citizen = harness.seed_citizens(1)[0]
    harness.seed_visits(citizen, 30, START)
    adapter = harness.adapter()
    adapter.appointments(citizen, START, START + timedelta(days=2))
    token = next(t for t in _tokens(harness) if t)
    with pytest.raises(InvalidRequest):
        adapter._call("GetVisits", NationalId=citizen, From="2026-04-06T00:00:00",
                      To="2026-04-09T00:00:00", ContinuationToken=token)


def test_a_token_handed_out_twice_stops_the_loop(harness: ProfilHarness) -> None:
    """A Profil that keeps answering with the same token would page forever: refused."""
    citizen = harness.seed_citizens(1)[0]
    visit = harness.mock.state.add_visit(citizen, 1, 1, START, START + timedelta(hours=1))

    def same_token(request: Request) -> Response:
        page = mock_wire.visits_page([visit], "loop")
        return Response(mock_wire.envelope(page), content_type="application/soap+xml")

    server = harness.mock.server
    assert server is not None
    server.clear()
    server.expect_request("/CitizenDialogService").respond_with_handler(same_token)
    with pytest.raises(MalformedReply, match="same continuation token"):
        harness.adapter().appointments(citizen, START, START + timedelta(days=1))
