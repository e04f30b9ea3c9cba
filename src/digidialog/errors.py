"""The one error hierarchy of digidialog, split by what the engine should do next.

Every error raised by digidialog derives from :class:`DigidialogError`. Callers
never need to know which library failed underneath: lxml, pydantic, zeep, AMQP
and database errors are translated into one of the three branches at the
boundary where they occur.

- :class:`RetriableError`: the world was temporarily unable; back off and retry.
- :class:`FatalError`: retrying will not help; dead-letter with a reason, alert.
- :class:`RejectedInput`: the input itself is wrong; answer the sender with the
  AppRec error code (or Dialogmelding code) carried on the exception.
"""

from __future__ import annotations

import re


class DigidialogError(Exception):
    """Root of every error digidialog raises."""


class RetriableError(DigidialogError):
    """A temporary failure: the same call may succeed later.

    ``retry_after`` is the number of seconds the other side asked us to wait,
    when it said so (an HTTP ``Retry-After`` header, a Busy fault).
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(DigidialogError):
    """A permanent failure that retrying will not mend."""


class RejectedInput(DigidialogError):
    """Input that cannot be used, with the code to answer its sender with.

    ``apprec_code`` is from code system 8221 (``T01`` not well-formed, ``T02``
    invalid against the schema, ``E10`` wrong HER-id, ``E35`` not digitally
    active, ...). ``location`` names the element or line that is wrong, so that
    people and scripts can see where to look without seeing the content.

    The text goes back to the sender and into logs, and codecs quote what they
    did not understand; so, whichever codec raised it, any run of eleven or
    more digits (the shape of a fødselsnummer) is masked and the text is cut
    at :data:`MAX_REASON_CHARS`.
    """

    apprec_code = "T02"

    def __init__(self, message: str, *, location: str | None = None) -> None:
        message = _presentable(message)
        location = None if location is None else _presentable(location)
        super().__init__(message if location is None else f"{location}: {message}")
        self.reason = message
        self.location = location


MAX_REASON_CHARS = 500
_ID_SHAPED = re.compile(r"\d{11,}")


def _presentable(text: str) -> str:
    text = _ID_SHAPED.sub(lambda digits: "*" * len(digits.group()), text)
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


class NotWellFormed(RejectedInput):
    """The bytes are not XML we are willing to read (broken, hostile or too big)."""

    apprec_code = "T01"


class SchemaViolation(RejectedInput):
    """Well-formed XML that does not follow the schema or the profile."""

    apprec_code = "T02"


class UnsupportedProcess(RejectedInput):
    """A Helsenorge process, or a function within one, that digidialog does not serve."""

    apprec_code = "T02"


class HerIdMismatch(RejectedInput):
    """The HER-ids of the transport disagree with those in the MsgHead."""

    apprec_code = "E10"


# ---------------------------------------------------------------- EPJ vendors
# Raised by adapters; nothing from zeep, lxml or requests leaks past an adapter.


class VendorUnavailable(RetriableError):
    """The EPJ is temporarily unable to answer (busy, 5xx, connection refused or dropped)."""


class VendorTimeout(RetriableError):
    """The EPJ did not answer within the call's timeout."""


class MalformedReply(RetriableError):
    """The EPJ's answer is broken or hostile (not XML, DTD/entities, truncated, too big,
    wrong content type). Retried a few times, since proxies truncate; then dead-lettered."""


class BrokenReply(MalformedReply):
    """The EPJ's reply as a whole could not be read: not XML, truncated, not a SOAP envelope,
    too big, the wrong content type (an error page). It says nothing about the record asked
    for, so a feed retries it as it would a network failure, rather than give the record up
    as unusable (a proxy that truncates replies for a while must not cost a staff message)."""


class AuthenticationFailed(FatalError):
    """The EPJ refused our credentials or certificate."""


class VendorRejected(FatalError):
    """The EPJ answered with a final error; ``code`` is the vendor's own fault code."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message if code is None else f"{code}: {message}")
        self.code = code


class UnknownCitizen(VendorRejected):
    """The EPJ does not know this citizen."""


class UnknownAppointment(VendorRejected):
    """The EPJ does not know this appointment."""


class ServiceNotOpen(VendorRejected):
    """The service is not open for digital dialog in the EPJ."""


class InvalidRequest(VendorRejected):
    """The EPJ found our request invalid (a bad period, a time that does not exist, ...)."""


# ------------------------------------------------------- broker and store
# Raised by transports and the store; nothing from proton or SQLAlchemy leaks past them.


class TransportUnavailable(RetriableError):
    """The broker (or the embedded queue store) cannot be reached or refused the operation."""


class StoreUnavailable(RetriableError):
    """The database cannot be reached, or a transaction failed for a passing reason."""
