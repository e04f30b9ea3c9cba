"""Profil's SOAP 1.2 faults: reading them into digidialog errors, and writing them.

Profil answers ``env:Fault`` with ``Code/Value`` ``env:Sender`` (our request is
wrong) or ``env:Receiver`` (Profil is), and a ``Subcode/Value`` naming the
reason: ``p:NotFound``, ``p:NotEnabled``, ``p:Invalid`` and ``p:Unauthorized``
are final, ``p:Busy`` means try later (on HTTP 503 with ``Retry-After``, which
the shared plumbing reads before it gets here).

The fault's Reason text is never copied into our errors: Profil writes free
text there, and free text may name the citizen.
"""

from __future__ import annotations

from enum import StrEnum

from lxml import etree

from digidialog.adapters.soap import SoapFault
from digidialog.errors import (
    AuthenticationFailed,
    DigidialogError,
    InvalidRequest,
    ServiceNotOpen,
    UnknownAppointment,
    UnknownCitizen,
    VendorRejected,
    VendorUnavailable,
)
from digidialog_profil.wire import NAMESPACE, SOAP_NS


class Subcode(StrEnum):
    """The reasons Profil gives in ``Subcode/Value`` (prefix ``p:``)."""

    NOT_FOUND = "NotFound"
    NOT_ENABLED = "NotEnabled"
    INVALID = "Invalid"
    UNAUTHORIZED = "Unauthorized"
    BUSY = "Busy"


FINAL_FAULTS: dict[str, type[DigidialogError]] = {
    Subcode.NOT_FOUND: VendorRejected,
    Subcode.NOT_ENABLED: ServiceNotOpen,
    Subcode.INVALID: InvalidRequest,
    Subcode.UNAUTHORIZED: AuthenticationFailed,
}
"""Each final subcode and the error it becomes (``NotFound`` is narrowed per operation)."""

# What "not found" means depends on what was asked for.
_NOT_FOUND_BY_OPERATION: dict[str, type[VendorRejected]] = {
    "GetVisits": UnknownCitizen,
    "SetDigitalStatus": UnknownCitizen,
    "PostInboxMessage": UnknownCitizen,
    "GetVisit": UnknownAppointment,
    "CancelVisit": UnknownAppointment,
}


def map_fault(fault: SoapFault) -> DigidialogError:
    """The digidialog error for a Profil fault (the ``fault_mapper`` of the endpoint)."""
    subcode = fault.subcode or ""
    if subcode == Subcode.BUSY:
        return VendorUnavailable("Profil is busy (p:Busy)")
    if subcode == Subcode.UNAUTHORIZED:
        return AuthenticationFailed("Profil refused our credentials (p:Unauthorized)")
    if subcode == Subcode.NOT_ENABLED:
        return ServiceNotOpen("the service is not enabled for digital dialog", code=subcode)
    if subcode == Subcode.INVALID:
        return InvalidRequest("Profil found the request invalid", code=subcode)
    if subcode == Subcode.NOT_FOUND:
        return VendorRejected("Profil does not know what the request names", code=subcode)
    if fault.code == "Receiver":
        # An unknown reason on Profil's side: SOAP 1.2 lets the same message succeed later.
        return VendorUnavailable(f"Profil failed (env:Receiver, subcode {subcode or 'none'})")
    return VendorRejected("Profil refused the request (env:Sender)", code=subcode or fault.code)


def narrow(error: VendorRejected, operation: str) -> VendorRejected:
    """A ``NotFound`` made specific to the operation (unknown citizen or appointment)."""
    kind = _NOT_FOUND_BY_OPERATION.get(operation)
    if kind is None or error.code != Subcode.NOT_FOUND or type(error) is not VendorRejected:
        return error
    what = "citizen" if kind is UnknownCitizen else "visit"
    return kind(f"Profil does not know the {what} ({operation})", code=error.code)


def fault_envelope(code: str, subcode: str, reason: str) -> bytes:
    """A SOAP 1.2 fault envelope with a ``p:`` subcode (for the mock and the push endpoint)."""
    env = f"{{{SOAP_NS}}}"
    nsmap = {"env": SOAP_NS, "p": NAMESPACE}
    envelope = etree.Element(f"{env}Envelope", nsmap=nsmap)
    fault = etree.SubElement(etree.SubElement(envelope, f"{env}Body"), f"{env}Fault")
    code_element = etree.SubElement(fault, f"{env}Code")
    etree.SubElement(code_element, f"{env}Value").text = f"env:{code}"
    sub = etree.SubElement(code_element, f"{env}Subcode")
    etree.SubElement(sub, f"{env}Value").text = f"p:{subcode}"
    text = etree.SubElement(etree.SubElement(fault, f"{env}Reason"), f"{env}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def fault_code_of(subcode: str) -> str:
    """``Receiver`` for Busy (Profil's side), ``Sender`` for every other reason."""
    return "Receiver" if subcode == Subcode.BUSY else "Sender"


def http_status_of(subcode: str) -> int:
    """The HTTP status of a fault: 503 for Busy, 400 for the sender's errors (SOAP 1.2 HTTP)."""
    return 503 if subcode == Subcode.BUSY else 400
