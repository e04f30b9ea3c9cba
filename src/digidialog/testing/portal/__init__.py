"""The portal simulator: plays Helsenorge towards digidialog, over any transport.

::

    from digidialog.testing.portal import PortalSimulator

    with PortalSimulator(transport) as portal:          # receives in the background
        question = portal.send_citizen_message("1000001", "1000002", "13116900216")
        portal.wait_for_receipt(question.msg_id)
        answer = portal.wait_for(function="service_reply", thread=question.msg_id)[0]
        portal.send_citizen_reply(answer)
        portal.declare_digitally_active("13116900216")    # answers the nightly SIDAB with 28
        portal.assert_no_violations()

What it sends is real and schema-valid (built with the project's codecs), with
the AMQP properties Helsenorge sets; what it receives is decoded, checked
(:mod:`.checks`) and answered with an AppRec (:mod:`.answers`). Everything is
recorded for the test to query. It needs nothing beyond a plain install.
"""

from digidialog.testing.portal.answers import Answer, ReceiptPolicy
from digidialog.testing.portal.build import CitizenLike, as_patient
from digidialog.testing.portal.digital import DigitalUsers
from digidialog.testing.portal.records import (
    ErrorReport,
    Received,
    Sent,
    ThreadEntry,
    ThreadView,
    Violation,
)
from digidialog.testing.portal.simulator import SYNC_TIMEOUT, PortalSimulator

__all__ = [
    "SYNC_TIMEOUT",
    "Answer",
    "CitizenLike",
    "DigitalUsers",
    "ErrorReport",
    "PortalSimulator",
    "ReceiptPolicy",
    "Received",
    "Sent",
    "ThreadEntry",
    "ThreadView",
    "Violation",
    "as_patient",
]
