"""The one place where proton's exceptions become digidialog errors.

Every call into proton that can fail runs inside :func:`translated`; nothing
from proton (or the socket underneath) leaks past the AMQP transport. A lost
or refused connection, a broker that does not answer in time, a closed link:
all :class:`~digidialog.errors.TransportUnavailable`, to be retried. Only what
retrying cannot mend (a message proton cannot encode, a proton built without
TLS when the URL asks for it) is a :class:`~digidialog.errors.FatalError`.

What the broker *says* rather than raises (a link refused with a condition,
a message not accepted) is worded here too, by :func:`link_refused` and
:func:`not_accepted`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from proton import (
    ConnectionException,
    DataException,
    Delivery,
    LinkException,
    MessageException,
    ProtonException,
    SessionException,
    SSLUnavailable,
    Timeout,
    TransportException,
)

from digidialog.errors import DigidialogError, FatalError, TransportUnavailable

# Most specific first: the first class the exception is an instance of decides.
TRANSLATIONS: tuple[tuple[type[BaseException], type[DigidialogError], str], ...] = (
    (Timeout, TransportUnavailable, "the broker did not answer in time"),
    (SSLUnavailable, FatalError, "this proton build has no TLS support"),
    (TransportException, TransportUnavailable, "the connection to the broker failed"),
    (ConnectionException, TransportUnavailable, "the connection to the broker is lost"),
    (SessionException, TransportUnavailable, "the broker ended the session"),
    (LinkException, TransportUnavailable, "the broker closed the link"),
    (MessageException, FatalError, "the message cannot be encoded"),
    (DataException, FatalError, "the message cannot be encoded"),
    (ProtonException, TransportUnavailable, "the AMQP client failed"),
    (OSError, TransportUnavailable, "the network failed"),
)
"""Which digidialog error each proton (or socket) exception becomes, and how it is worded."""



class NoSuchQueue(TransportUnavailable):
    """The broker has no queue at the address: it must be declared (``declare_queues``)."""


CAUGHT = tuple(source for source, _, _ in TRANSLATIONS)


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Run a block of proton calls; raise what fails as a digidialog error.

    ``action`` says what was being done ("sending to 1000001_async"); it leads
    the message, followed by what went wrong and proton's own words.
    """
    try:
        yield
    except CAUGHT as error:
        for source, target, wording in TRANSLATIONS:
            if isinstance(error, source):
                detail = str(error) or type(error).__name__
                raise target(f"{action}: {wording} ({detail})") from error
        raise  # unreachable: CAUGHT is made of TRANSLATIONS' sources


def link_refused(address: str, condition: str | None, description: str | None) -> DigidialogError:
    """The error for a link the broker would not attach (a missing or mismatched queue)."""
    said = f"{condition}: {description}" if description else (condition or "no reason given")
    if condition == "amqp:not-found":
        return NoSuchQueue(
            f"no queue at {address!r} on the broker ({said}); declare it durable "
            "(`digidialog run` declares missing queues)"
        )
    if condition == "amqp:precondition-failed":
        return FatalError(f"the queue at {address!r} exists with other settings ({said})")
    return TransportUnavailable(f"the broker refused a link to {address!r} ({said})")


def not_accepted(queue: str, outcome: int, condition: str | None) -> TransportUnavailable:
    """The error for a sent message the broker did not accept (rejected or released)."""
    names: dict[int, str] = {Delivery.REJECTED: "rejected", Delivery.RELEASED: "released",
                             Delivery.MODIFIED: "modified"}
    said = names.get(outcome, f"outcome {outcome}")
    reason = f": {condition}" if condition else ""
    return TransportUnavailable(f"the broker {said} the message sent to {queue}{reason}")
