"""Hostile and broken answers are refused with a clear error, quickly, and leak nothing.

A bare HTTP server stands in for Gerica and answers every request with the
bytes under test; the adapter must turn each into a digidialog error within
seconds, without reading a file, expanding an entity or holding 100 MB.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from gerica_support import ONE_TRY, SOAP11, replying
from werkzeug.wrappers import Request, Response

from digidialog.adapters.soap import CallPolicy
from digidialog.errors import (
    DigidialogError,
    MalformedReply,
    RetriableError,
    VendorTimeout,
    VendorUnavailable,
)
from digidialog_gerica import GericaAdapter
from digidialog_gerica.wire import NAMESPACE

XML = "text/xml; charset=utf-8"
HUGE = 100 * 1024 * 1024


def _envelope(body: str, soap: str = SOAP11) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{soap}">'
            f'<soap:Body>{body}</soap:Body></soap:Envelope>')


def _fixed(data: bytes | str, content_type: str | None = XML, status: int = 200,
           headers: dict[str, str] | None = None) -> Callable[[Request], Response]:
    def answer(_request: Request) -> Response:
        response = Response(data, status=status, headers=headers)
        if content_type is None:
            del response.headers["Content-Type"]
        else:
            response.headers["Content-Type"] = content_type
        return response

    return answer


def _huge(_request: Request) -> Response:
    chunk = b"<a>" + b"x" * 65536 + b"</a>"
    return Response((chunk for _ in range(HUGE // len(chunk) + 1)), content_type=XML)


def _slow(_request: Request) -> Response:
    time.sleep(1.5)
    return Response(_envelope(f'<g:HentTjenesterSvar xmlns:g="{NAMESPACE}"/>'),
                    content_type=XML)


def _stalled(_request: Request) -> Response:
    def body() -> Iterator[bytes]:
        yield b"<?xml version='1.0' encoding='utf-8'?>"
        time.sleep(2.5)
        yield b"<late/>"

    return Response(body(), content_type=XML)


def _trickle(_request: Request) -> Response:
    def body() -> Iterator[bytes]:
        for _ in range(40):
            time.sleep(0.2)
            yield b" "

    return Response(body(), content_type=XML)


def _billion_laughs() -> str:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE e [{entities}]><e>&l9;</e>'


HOSTILE: dict[str, tuple[Callable[[Request], Response], type[DigidialogError]]] = {
    "xxe": (_fixed('<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   + _envelope("<x>&x;</x>")), MalformedReply),
    "xxe-parameter-entity": (_fixed(
        '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>'
        "<e/>"), MalformedReply),
    "billion-laughs": (_fixed(_billion_laughs()), MalformedReply),
    "doctype-in-a-fault": (_fixed('<!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:9/d">'
                                  + _envelope("<soap:Fault/>"), status=500), MalformedReply),
    "100-mb-streamed": (_huge, MalformedReply),
    "100-mb-declared": (_fixed(b"<a/>", headers={"Content-Length": str(HUGE)}), MalformedReply),
    "truncated": (_fixed('<?xml version="1.0"?><soap:Envelope xmlns:soap="' + SOAP11
                         + '"><soap:Bo'), MalformedReply),
    "empty": (_fixed(b""), MalformedReply),
    "html-login-page": (_fixed("<html><body>login</body></html>", "text/html"), MalformedReply),
    "soap-1.2-media-type": (_fixed(_envelope(""), "application/soap+xml"), MalformedReply),
    "no-content-type": (_fixed(_envelope(""), None), MalformedReply),
    "soap-1.2-envelope": (_fixed(_envelope(
        f'<g:HentTjenesterSvar xmlns:g="{NAMESPACE}"/>',
        "http://www.w3.org/2003/05/soap-envelope")), MalformedReply),
    "not-an-envelope": (_fixed(f'<g:HentTjenesterSvar xmlns:g="{NAMESPACE}"/>'), MalformedReply),
    "empty-body": (_fixed(_envelope("")), MalformedReply),
    "answer-to-another-operation": (_fixed(_envelope(
        f'<g:HentMottakereSvar xmlns:g="{NAMESPACE}"/>')), MalformedReply),
    "utf-16": (_fixed(_envelope("").encode("utf-16")), MalformedReply),
    "deep-nesting": (_fixed(_envelope("<a>" * 100_000 + "</a>" * 100_000)), MalformedReply),
    "proxy-502": (_fixed("<html>Bad Gateway</html>", "text/html", status=502), VendorUnavailable),
    "slow": (_slow, VendorTimeout),
    "stalled-mid-body": (_stalled, VendorTimeout),
}


@pytest.fixture(params=sorted(HOSTILE), ids=sorted(HOSTILE))
def hostile(request: pytest.FixtureRequest) -> Iterator[tuple[str, type[DigidialogError]]]:
    """A server giving one hostile answer; yields its URL and the error it must cause."""
    handler, expected = HOSTILE[request.param]
    with replying(handler) as url:
        yield url, expected


def test_hostile_answers_are_refused_quickly(hostile: tuple[str, type[DigidialogError]]) -> None:
    """Each becomes its digidialog error (retriable: a proxy may have broken it) in seconds."""
    url, expected = hostile
    adapter = GericaAdapter(url, "digidialog", "digidialog",
                            policy=CallPolicy(timeout=1.0, attempts=1))
    began = time.monotonic()
    with pytest.raises(expected) as caught:
        adapter.services()
    assert time.monotonic() - began < 10, "a hostile reply must never hang the caller"
    assert isinstance(caught.value, RetriableError)
    message = str(caught.value)
    assert message, "the error says what was wrong"
    for leaked in ("root:", "lol", "login", "xxxx"):
        assert leaked not in message
    adapter.close()


def test_a_huge_answer_is_not_read_past_the_limit() -> None:
    """The size limit applies while reading: far less than 100 MB is taken in."""
    with replying(_huge) as url:
        adapter = GericaAdapter(url, "u", "p", policy=CallPolicy(
            timeout=2.0, attempts=1, max_reply_bytes=1024 * 1024))
        began = time.monotonic()
        with pytest.raises(MalformedReply, match="limit"):
            adapter.services()
        assert time.monotonic() - began < 3


def test_a_fault_without_a_body_is_still_an_answer() -> None:
    """HTTP 500 with a SOAP fault but no detail: a soap:Server fault, retried then raised."""
    fault = _envelope("<soap:Fault><faultcode>soap:Server</faultcode>"
                      "<faultstring>NullReferenceException</faultstring></soap:Fault>")
    with replying(_fixed(fault, status=500)) as url:
        adapter = GericaAdapter(url, "u", "p", policy=ONE_TRY)
        with pytest.raises(VendorUnavailable) as caught:
            adapter.services()
    assert "NullReference" not in str(caught.value)


def test_a_reply_trickling_in_is_cut_off_at_the_deadline() -> None:
    """A byte every 0.2 s never trips the per-read timeout; the call's deadline ends it."""
    with replying(_trickle) as url:
        adapter = GericaAdapter(url, "u", "p", policy=CallPolicy(
            timeout=1.0, attempts=1, deadline=1.5))
        began = time.monotonic()
        with pytest.raises(VendorTimeout):
            adapter.services()
        assert time.monotonic() - began < 3
