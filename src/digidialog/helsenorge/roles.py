"""Who sends what: the functions a municipality receives, and how it refuses the others.

In every process Helsenorge has the role Innbygger and the municipality the
role Helsepersonell, and each role sends its own functions. A municipality
reads every function digidialog serves (it writes most of them), but it
receives only what the portal sends: a citizen's message or answer, a
refusal, HentPlanlagteTimer, a cancellation, a digital status change or an
answer to its own status query, and receipts. Anything else on its queue
(an appointment notice, a booking confirmation, an attest answer, a reply
only a service writes) was sent by mistake, and its sender is told so in the
way its process allows:

- a process with Dialogmelding refusals (eKontakt, Timereservasjon,
  Avtaleavbestilling, Digitalbruker): the message was read, so it gets its
  AppRec OK when it asked for one, and a ``26`` "Forespørsel avvist" answers
  it in its own process and thread (the guide's rule: business refusals go in
  ``Notat/TemaKodet`` after a positive AppRec, never in the AppRec);
- a process the Innbygger side answers with an AppRec only (Avtaleutsending,
  TjenesteOversikt): a negative AppRec with ``T10`` "Støtter ikke
  meldingsformatet" (code system 8221), since no other answer exists.
"""

from __future__ import annotations

from digidialog.helsenorge.message import Function
from digidialog.helsenorge.processes import ROUTES, Process, Route, Slot

MUNICIPALITY_RECEIVES: frozenset[Function] = frozenset({
    Function.CITIZEN_MESSAGE,
    Function.CITIZEN_REPLY,
    Function.REFUSAL,  # the portal refuses a DI or a status query with 26 or 31
    Function.PLANNED_APPOINTMENTS_REQUEST,
    Function.CANCELLATION_REQUEST,
    Function.DIGITAL_STATUS_CHANGE,
    Function.DIGITAL_STATUS_REPLY,
    Function.RECEIPT,
})
"""The functions Helsenorge (role Innbygger) sends to a municipality."""

REFUSED = "26"
"""The Dialogmelding refusal a municipality answers with: ``26`` Forespørsel avvist."""

NOT_RECEIVED_APPREC = "T10"
"""AppRec error (8221) for a message of a process that has no other answer:
"Støtter ikke meldingsformatet", the receiver does not take this message."""


def received_by_municipality(function: Function) -> bool:
    """Whether a municipality receives messages doing ``function`` (from the portal).

    Never true of what only a service sends: a municipality that finds one on
    its queue refuses it (see :func:`refusal_route`), it never acts on it.
    """
    return function in MUNICIPALITY_RECEIVES


def refusal_route(process: Process | str) -> Route | None:
    """The route of the ``26`` a municipality refuses a message of ``process`` with.

    ``None`` when the process has no Dialogmelding refusal (Avtaleutsending,
    TjenesteOversikt, AppRec): then the answer is a negative AppRec with
    :data:`NOT_RECEIVED_APPREC`. A process digidialog does not serve has none
    either. ``process`` may be the ``process`` string of a decoded message.
    """
    return _REFUSALS.get(str(process))


_REFUSALS: dict[str, Route] = {
    process.value: route for process in Process
    if (route := ROUTES.get((process, Slot.NOTAT, REFUSED))) is not None
}
