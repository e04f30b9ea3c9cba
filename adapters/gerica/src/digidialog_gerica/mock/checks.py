"""How the Gerica mock checks a request before answering it, as Gerica would.

POST with ``text/xml``; a SOAP 1.1 envelope (``soap:VersionMismatch``
otherwise); a WS-Security UsernameToken with a PasswordText password
(``IKKE_AUTORISERT`` otherwise); a body element matching the SOAPAction; and
that element valid against the project's XSD (``soap:Client`` without
GericaFeil otherwise, as a SOAP stack refusing a schema-invalid request does).
"""

from __future__ import annotations

import hmac

from lxml import etree
from werkzeug.wrappers import Request

from digidialog.errors import DigidialogError
from digidialog.xml import safe
from digidialog_gerica.mock.records import GericaFault
from digidialog_gerica.mock.render import SOAP
from digidialog_gerica.wire import PLAIN_TEXT_TYPE, WSSE, FaultCode, Operation, message_schema

MAX_REQUEST_BYTES = 10 * 1024 * 1024
_OPERATIONS = {op.value: op for op in Operation}


def read_request(request: Request, operation: str, body: bytes, username: str, password: str
                 ) -> etree._Element:
    """The request's body element (the operation wrapper), or the GericaFault to answer."""
    if request.method != "POST":
        raise GericaFault(None, "Only POST is supported")
    if request.mimetype != "text/xml":
        raise GericaFault(None, "Content-Type must be text/xml (SOAP 1.1)")
    try:
        envelope = safe.parse(body, max_bytes=MAX_REQUEST_BYTES)
    except DigidialogError as error:
        raise GericaFault(None, f"The request is not well-formed XML: {error}") from None
    if envelope.tag != f"{{{SOAP}}}Envelope":
        raise GericaFault(None, "Not a SOAP 1.1 envelope", faultcode="VersionMismatch")
    _authenticate(envelope.find(f"{{{SOAP}}}Header"), username, password)
    content = envelope.find(f"{{{SOAP}}}Body")
    wrapper = None if content is None else next(iter(content), None)
    if operation not in _OPERATIONS:
        raise GericaFault(None, "Unknown SOAPAction")
    if wrapper is None or wrapper.tag != _OPERATIONS[operation].request_tag:
        raise GericaFault(None, "The SOAP body does not match the SOAPAction")
    schema = message_schema()
    if not schema.validate(wrapper):
        # The stubs leave the log untyped; its text holds one line per problem.
        first = str(schema.error_log).partition("\n")[0].partition(": ")[2]
        raise GericaFault(None, f"The request does not follow the schema: {first}")
    return wrapper


def _authenticate(header: etree._Element | None, username: str, password: str) -> None:
    token = None if header is None else header.find(
        f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    given_name = None if token is None else token.findtext(f"{{{WSSE}}}Username")
    secret = None if token is None else token.find(f"{{{WSSE}}}Password")
    # WS-Security: a Password without Type is PasswordText; a digest is not what Gerica takes.
    kind = PLAIN_TEXT_TYPE if secret is None else secret.get("Type", PLAIN_TEXT_TYPE)
    given = "" if secret is None else (secret.text or "")
    if (
        given_name is None
        or secret is None
        or kind != PLAIN_TEXT_TYPE
        or not hmac.compare_digest(given_name.encode(), username.encode())
        or not hmac.compare_digest(given.encode(), password.encode())
    ):
        raise GericaFault(FaultCode.IKKE_AUTORISERT, "Ugyldig brukernavn eller passord")
