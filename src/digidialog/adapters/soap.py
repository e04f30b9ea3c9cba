"""Shared SOAP plumbing for every vendor adapter, in one place.

- zeep loads the vendor's WSDL from the installed package, with DTDs, entities
  and external references forbidden, and builds each request (and its
  WS-Security header) from it, so what we send follows the vendor's schema;
- the request is sent by us, with a timeout, and the reply is read as a
  stream with a size limit, so a 100 MB or never-ending body cannot hang or
  exhaust the caller; the content type is checked;
- the reply is parsed by digidialog's hardened parser; SOAP 1.1 and 1.2 faults
  are read into :class:`SoapFault` and mapped by the adapter to digidialog's
  errors (retriable or final);
- retries with exponential backoff and jitter honour ``Retry-After``;
- every exception of requests, zeep and lxml is translated in
  :func:`vendor_errors`.

Adapters map reply bodies to the domain themselves, straight from the lxml
tree: that is where the speed is (zeep's own deserialisation is an order of
magnitude slower).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import requests
import urllib3.exceptions
import zeep
import zeep.exceptions
from lxml import etree
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from digidialog.adapters.wire_errors import cause, public_url, where
from digidialog.errors import (
    AuthenticationFailed,
    BrokenReply,
    DigidialogError,
    FatalError,
    InvalidRequest,
    RetriableError,
    VendorTimeout,
    VendorUnavailable,
)
from digidialog.resources import schema_path
from digidialog.xml import safe

T = TypeVar("T")


class SoapVersion(Enum):
    """The two SOAP dialects, with their envelope namespace and content type."""

    V11 = ("http://schemas.xmlsoap.org/soap/envelope/", "text/xml")
    V12 = ("http://www.w3.org/2003/05/soap-envelope", "application/soap+xml")

    @property
    def namespace(self) -> str:
        """The Envelope namespace."""
        return self.value[0]

    @property
    def content_type(self) -> str:
        """The media type of a request and a reply."""
        return self.value[1]


@dataclass(frozen=True)
class CallPolicy:
    """Limits and retries for every call to one EPJ."""

    timeout: float = 10.0
    attempts: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_reply_bytes: int = 40 * 1024 * 1024
    deadline: float = 120.0
    """Seconds one attempt may take, reply included: ``timeout`` bounds each read, so a
    reply trickling in a byte at a time would otherwise never end."""


@dataclass(frozen=True)
class SoapFault:
    """A SOAP fault, either version: code, subcode, reason and the detail element."""

    code: str
    subcode: str | None
    reason: str
    detail: etree._Element | None
    http_status: int


FaultMapper = Callable[[SoapFault], DigidialogError]


def new_session() -> requests.Session:
    """An HTTP session for talking to an EPJ, unaffected by the process environment.

    ``trust_env`` is off: requests otherwise lets ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` replace the CA an adapter was configured to trust, and
    proxy variables reroute calls meant for the municipality's own network.
    """
    session = requests.Session()
    session.trust_env = False
    return session


def wsdl_path(vendor: str, filename: str) -> Path:
    """A WSDL shipped under ``schemas/<vendor>/``."""
    return schema_path(vendor, filename)


def load_client(wsdl: Path, *, wsse: Any = None) -> zeep.Client:
    """A zeep client for building requests, from a local WSDL with hostile XML forbidden."""
    settings = zeep.Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
        xml_huge_tree=False,
    )
    # The transport is never used to send: we only load the local WSDL and build messages.
    transport = zeep.Transport(session=new_session(), timeout=5, operation_timeout=5)
    return zeep.Client(str(wsdl), settings=settings, transport=transport, wsse=wsse)


class SoapEndpoint:
    """One vendor endpoint: build with zeep, send with limits, parse safely, map faults."""

    def __init__(
        self,
        client: zeep.Client,
        address: str,
        session: requests.Session,
        *,
        version: SoapVersion,
        action: Callable[[str], str],
        fault_mapper: FaultMapper,
        policy: CallPolicy | None = None,
    ) -> None:
        self.client = client
        self.address = address
        self.session = session
        self.version = version
        self.action = action
        self.fault_mapper = fault_mapper
        self.policy = policy or CallPolicy()

    def build(self, operation: str, **params: Any) -> bytes:
        """The request envelope for ``operation``, validated against the WSDL by zeep."""
        with vendor_errors():
            try:
                envelope = self.client.create_message(self.client.service, operation, **params)
            except ValueError:
                # lxml refuses text XML cannot carry (NUL, most control characters).
                raise InvalidRequest(
                    f"the {operation} request holds characters XML cannot carry") from None
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")

    def headers(self, operation: str) -> dict[str, str]:
        """HTTP headers for a request: content type and the SOAP action."""
        action = self.action(operation)
        if self.version is SoapVersion.V11:
            return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        return {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}

    def call(self, operation: str, **params: Any) -> etree._Element:
        """Send one request, with retries; return the reply's body element (the wrapper)."""
        payload = self.build(operation, **params)
        return with_retries(lambda: self._send(operation, payload), self.policy)

    def _send(self, operation: str, payload: bytes) -> etree._Element:
        deadline = time.monotonic() + self.policy.deadline
        with vendor_errors(), self.session.post(
            self.address,
            data=payload,
            headers=self.headers(operation),
            timeout=self.policy.timeout,
            stream=True,
        ) as response:
            body = read_limited(response, self.policy.max_reply_bytes, deadline=deadline)
            return self.interpret(response, body)

    def interpret(self, response: requests.Response, body: bytes) -> etree._Element:
        """Turn an HTTP reply into the SOAP body's first element, or raise the mapped error."""
        status = response.status_code
        url = public_url(response.url or self.address)
        answered = f"HTTP {status}{_reason(response)} from {url}"
        if status in (401, 403):
            raise AuthenticationFailed(f"the EPJ refused our credentials ({answered})")
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if status == 503 or (status >= 500 and media not in ("text/xml", "application/soap+xml")):
            raise VendorUnavailable(f"the EPJ is unavailable ({answered})",
                                    retry_after=retry_after_seconds(response))
        if media != self.version.content_type:
            # An error page (a 404 for a wrong address) is told by its status, not its type.
            raise BrokenReply(
                f"the EPJ answered {answered}, not a SOAP reply" if status >= 300 else
                f"reply has content type {media or 'none'!r}, expected "
                f"{self.version.content_type} ({answered})"
            )
        try:
            envelope = safe.parse(body, max_bytes=self.policy.max_reply_bytes)
        except DigidialogError as error:
            raise BrokenReply(f"reply is not usable XML: {error}") from None
        content = soap_body(envelope, self.version)
        fault = read_fault(content, self.version, status)
        if fault is not None:
            raise self.fault_mapper(fault)
        if status >= 300:
            raise VendorUnavailable(f"the EPJ answered {answered} without a fault")
        return content


def _reason(response: requests.Response) -> str:
    """`` Not Found``: the status line's words, when the server sent them."""
    words = (response.reason or "").strip()
    return f" {words[:60]}" if words else ""


def read_limited(response: requests.Response, limit: int, *,
                 deadline: float | None = None) -> bytes:
    """The reply body, refusing one larger than ``limit`` bytes as soon as it is.

    With ``deadline`` (a :func:`time.monotonic` value), a reply still arriving
    then is cut off with :class:`VendorTimeout`. It is read with ``read1``,
    which returns whatever one read brings, so the check runs however slowly
    the bytes come.
    """
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BrokenReply(f"reply of {declared} bytes is larger than the limit of {limit}")
    read1 = getattr(response.raw, "read1", None)
    pieces: Iterator[bytes] = (
        iter(lambda: read1(65536, decode_content=True) or b"", b"") if deadline and read1
        else response.iter_content(chunk_size=65536)
    )
    chunks: list[bytes] = []
    size = 0
    for chunk in pieces:
        size += len(chunk)
        if size > limit:
            raise BrokenReply(f"reply is larger than the limit of {limit} bytes")
        if deadline is not None and time.monotonic() > deadline:
            raise VendorTimeout("the reply was still arriving at the call's deadline")
        chunks.append(chunk)
    return b"".join(chunks)


def soap_body(envelope: etree._Element, version: SoapVersion) -> etree._Element:
    """The first element inside the Envelope's Body."""
    namespace = version.namespace
    if envelope.tag != f"{{{namespace}}}Envelope":
        raise BrokenReply(f"reply is not a SOAP {version.name[1]}.{version.name[2]} envelope")
    body = envelope.find(f"{{{namespace}}}Body")
    content = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    if content is None:
        raise BrokenReply("reply envelope has an empty Body")
    return content


def read_fault(content: etree._Element, version: SoapVersion, status: int) -> SoapFault | None:
    """The SOAP fault in a body, if it is one."""
    ns = version.namespace
    if content.tag != f"{{{ns}}}Fault":
        return None
    if version is SoapVersion.V11:
        return SoapFault(
            code=_strip_prefix(content.findtext("faultcode") or ""),
            subcode=None,
            reason=(content.findtext("faultstring") or "").strip(),
            detail=content.find("detail"),
            http_status=status,
        )
    return SoapFault(
        code=_strip_prefix(content.findtext(f"{{{ns}}}Code/{{{ns}}}Value") or ""),
        subcode=_strip_prefix(
            content.findtext(f"{{{ns}}}Code/{{{ns}}}Subcode/{{{ns}}}Value") or ""
        ) or None,
        reason=(content.findtext(f"{{{ns}}}Reason/{{{ns}}}Text") or "").strip(),
        detail=content.find(f"{{{ns}}}Detail"),
        http_status=status,
    )


def _strip_prefix(qname: str) -> str:
    return qname.strip().rpartition(":")[2]


def retry_after_seconds(response: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds, when given as a number."""
    raw = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


def _wait(policy: CallPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        backoff = min(policy.backoff_max, policy.backoff_initial * 2 ** (state.attempt_number - 1))
        jittered = random.uniform(backoff / 2, backoff)  # noqa: S311 - jitter, not cryptography
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        return max(jittered, min(float(asked), policy.backoff_max)) if asked else jittered

    return wait


def with_retries(call: Callable[[], T], policy: CallPolicy) -> T:
    """Run ``call``, retrying :class:`RetriableError` with backoff, jitter and Retry-After."""
    retrying = Retrying(
        retry=retry_if_exception_type(RetriableError),
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        reraise=True,
    )
    return retrying(call)


def _said(error: BaseException) -> str:
    """What a library's exception says, cut short (zeep and lxml texts are readable)."""
    return str(error)[:300]


def _invalid_address(error: BaseException) -> DigidialogError:
    return FatalError(f"the EPJ address is invalid: {_said(error)}")


# Each third-party exception the adapters can meet, and what it becomes. A test checks
# that every exception class of requests and zeep is covered by one of these rows. The
# libraries' own texts ("HTTPConnectionPool(host=...): Max retries exceeded ...") are
# replaced by the address and the innermost reason (wire_errors).
_TRANSLATIONS: tuple[tuple[type[BaseException], Callable[[BaseException], DigidialogError]],
                     ...] = (
    (requests.exceptions.SSLError,
     lambda e: AuthenticationFailed(f"TLS handshake with {where(e)} failed ({cause(e)})")),
    (requests.exceptions.ConnectTimeout,
     lambda e: VendorTimeout(f"could not connect to {where(e)} (timed out)")),
    (requests.exceptions.Timeout,
     lambda e: VendorTimeout(f"no answer from {where(e)} in time ({cause(e)})")),
    (requests.exceptions.ChunkedEncodingError,
     lambda e: VendorUnavailable(f"the connection to {where(e)} broke during the reply "
                                 f"({cause(e)})")),
    (requests.exceptions.ContentDecodingError,
     lambda e: BrokenReply(f"the reply from {where(e)} could not be decoded ({cause(e)})")),
    (requests.exceptions.ConnectionError,
     lambda e: VendorUnavailable(f"could not connect to {where(e)} ({cause(e)})")),
    (requests.exceptions.InvalidURL, _invalid_address),
    (requests.exceptions.InvalidSchema, _invalid_address),
    (requests.exceptions.MissingSchema, _invalid_address),
    (requests.exceptions.InvalidHeader,
     lambda e: FatalError(f"invalid request header: {_said(e)}")),
    (requests.exceptions.RequestException,
     lambda e: VendorUnavailable(f"the request to {where(e)} failed ({cause(e)})")),
    (zeep.exceptions.DTDForbidden, lambda e: BrokenReply("a DTD in a WSDL or reply")),
    (zeep.exceptions.EntitiesForbidden, lambda e: BrokenReply("entities in a WSDL or reply")),
    (zeep.exceptions.XMLSyntaxError, lambda e: BrokenReply(f"broken XML: {_said(e)}")),
    (zeep.exceptions.ValidationError,
     lambda e: InvalidRequest(f"request does not fit the vendor's schema: {_said(e)}")),
    (zeep.exceptions.TransportError, lambda e: VendorUnavailable(f"transport error: {_said(e)}")),
    (zeep.exceptions.Fault, lambda e: FatalError(f"unexpected SOAP fault: {_said(e)}")),
    (zeep.exceptions.Error, lambda e: FatalError(f"SOAP client error: {_said(e)}")),
    (etree.XMLSyntaxError, lambda e: BrokenReply(f"broken XML: {_said(e)}")),
    # read_limited reads with urllib3's read1 when a deadline is set, past requests'
    # own translation of these (the order follows requests' iter_content).
    (urllib3.exceptions.SSLError,
     lambda e: AuthenticationFailed(f"TLS with {where(e)} failed during the reply "
                                    f"({cause(e)})")),
    (urllib3.exceptions.ReadTimeoutError,
     lambda e: VendorTimeout(f"the reply from {where(e)} stopped arriving ({cause(e)})")),
    (urllib3.exceptions.ProtocolError,
     lambda e: VendorUnavailable(f"the connection to {where(e)} broke during the reply "
                                 f"({cause(e)})")),
    (urllib3.exceptions.DecodeError,
     lambda e: BrokenReply(f"the reply from {where(e)} could not be decoded ({cause(e)})")),
    (urllib3.exceptions.HTTPError,
     lambda e: VendorUnavailable(f"the reply from {where(e)} could not be read ({cause(e)})")),
)


def translate(error: BaseException) -> DigidialogError | None:
    """The digidialog error for a third-party exception, or ``None`` if it is not one we map."""
    for kind, make in _TRANSLATIONS:
        if isinstance(error, kind):
            return make(error)
    return None


@contextmanager
def vendor_errors() -> Iterator[None]:
    """Translate requests, zeep and lxml exceptions into digidialog's own."""
    try:
        yield
    except DigidialogError:
        raise
    except Exception as error:
        translated = translate(error)
        if translated is None:
            raise
        raise translated from error
