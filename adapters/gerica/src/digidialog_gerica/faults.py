"""Gerica's SOAP faults (``detail/GericaFeil {Kode, Beskrivelse}``) as digidialog errors.

Every code is final except MIDLERTIDIG_UTILGJENGELIG, which is retried (Gerica
sends no Retry-After, so the call policy's backoff decides the wait). A fault
without a GericaFeil, or with a code this adapter does not know, is judged by
its faultcode: ``soap:Server`` is Gerica's trouble and is retried; anything
else (``soap:Client``, ``VersionMismatch``, ``MustUnderstand``) says our request
was wrong, which a retry cannot mend.

``Beskrivelse`` and ``faultstring`` are Gerica's free text, which may name the
citizen or quote what we sent, so they are never put into an error message.
"""

from __future__ import annotations

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
from digidialog_gerica.wire import NS, FaultCode

_FINAL: dict[str, tuple[type[VendorRejected], str]] = {
    FaultCode.UKJENT_MOTTAKER: (UnknownCitizen, "Gerica does not know the citizen"),
    FaultCode.UKJENT_AVTALE: (UnknownAppointment, "Gerica does not know the appointment"),
    FaultCode.TJENESTE_IKKE_APEN: (ServiceNotOpen,
                                   "the service is not open for digital dialog in Gerica"),
    FaultCode.UGYLDIG_PERIODE: (InvalidRequest, "Gerica found the period invalid"),
}


def gerica_code(fault: SoapFault) -> str | None:
    """``GericaFeil/Kode`` of a fault, if it has one."""
    if fault.detail is None:
        return None
    feil = fault.detail.find(NS + "GericaFeil")
    if feil is None:
        return None
    code = feil.findtext(NS + "Kode")
    return code.strip() if code else None


def map_fault(fault: SoapFault) -> DigidialogError:
    """The digidialog error for a Gerica fault."""
    code = gerica_code(fault)
    if code == FaultCode.MIDLERTIDIG_UTILGJENGELIG:
        return VendorUnavailable("Gerica is temporarily unavailable (MIDLERTIDIG_UTILGJENGELIG)")
    if code == FaultCode.IKKE_AUTORISERT:
        return AuthenticationFailed("Gerica refused our WS-Security credentials (IKKE_AUTORISERT)")
    if code in _FINAL:
        kind, message = _FINAL[code]
        return kind(message, code=code)
    server_side = fault.code == "Server"
    if code is not None:
        if server_side:
            return VendorUnavailable(f"Gerica failed with an unknown fault code {code[:64]!r}")
        return VendorRejected("Gerica refused the request with an unknown fault code",
                              code=code[:64])
    if server_side:
        return VendorUnavailable("Gerica answered with a soap:Server fault without GericaFeil")
    # soap:Client (a request its schema refuses), VersionMismatch, MustUnderstand: sending
    # the same request again cannot help.
    return InvalidRequest(f"Gerica refused the request (soap:{fault.code[:32] or 'fault'} "
                          "without GericaFeil)")
