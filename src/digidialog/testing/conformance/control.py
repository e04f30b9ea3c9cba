"""The mock's control API, test by test: what the engine's end-to-end tests rely on.

Every vendor's harness must let a caller reach its mock from plain settings,
see the citizen messages the EPJ holds in the adapter's terms, and have staff
answer one in its thread; these tests hold each vendor to that. They run in
the class :func:`~digidialog.testing.conformance.conformance_tests` makes,
beside the adapter suite whose ``harness`` and ``citizen`` fixtures they use.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from digidialog.adapters import registry
from digidialog.adapters.contract import CitizenMessage
from digidialog.domain import OnBehalfOf, Relation
from digidialog.domain.events import StaffMessageWritten
from digidialog.domain.timezone import OSLO
from digidialog.testing.conformance.suite import NON_LATIN1, RELATIVE, drain
from digidialog.testing.harness import ConformanceHarness


class ControlConformance:
    """Tests of the harness itself (mixed into the class ``conformance_tests`` makes)."""

    def test_settings_reach_the_mock(self, harness: ConformanceHarness) -> None:
        """The vendor's registered plugin, given only the harness's settings (as a daemon's
        configuration would give them), talks to the mock."""
        settings = harness.settings()
        assert settings.base_url == harness.base_url
        adapter = registry.load(harness.vendor).create(settings)
        try:
            codes = {s.code for s in adapter.services()}
        finally:
            adapter.close()
        assert {harness.open_service(), harness.second_open_service()} <= codes

    def test_delivered_messages_are_shown_in_our_terms(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """A delivered message is listed with our ids, its text, the relative it came from
        and the service code the adapter uses."""
        message_id = str(uuid.uuid4())
        adapter = harness.adapter()
        receipt = adapter.deliver_message(CitizenMessage(
            message_id=message_id, thread_id=message_id, service_code=harness.open_service(),
            citizen_id=citizen, subject="Nøkkelboks", body=NON_LATIN1,
            sent_at=datetime.now(OSLO).replace(microsecond=0),
            on_behalf_of=OnBehalfOf(person=RELATIVE, relation=Relation.FULLMAKT),
        ))
        (held,) = [m for m in harness.delivered_messages() if m["message_id"] == message_id]
        assert held["thread_id"] == message_id
        assert held["citizen_id"] == citizen
        assert held["service_code"] == harness.open_service()
        assert held["subject"] == "Nøkkelboks"
        assert held["text"] == NON_LATIN1
        assert held["on_behalf_of_id"] == RELATIVE.national_id
        assert held["on_behalf_of_name"] == RELATIVE.full_name
        assert held["epj_reference"] == receipt.epj_reference

    def test_staff_answer_in_the_citizens_thread(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """Staff answer a delivered message: the feed reports it in our thread, as an answer
        to our message, with the vendor's message id the lever returned."""
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        thread_id, message_id = str(uuid.uuid4()), str(uuid.uuid4())
        adapter.deliver_message(CitizenMessage(
            message_id=message_id, thread_id=thread_id, service_code=harness.open_service(),
            citizen_id=citizen, subject="Medisiner", body="Kan dere ta med nye medisiner?",
            sent_at=datetime.now(OSLO).replace(microsecond=0),
        ))
        vendor_id = harness.write_staff_message(
            citizen, "Ja, vi tar dem med i morgen.", service_code=harness.open_service(),
            subject="Re: Medisiner", thread_id=thread_id, in_reply_to=message_id, interim=True)
        events, _ = drain(adapter, checkpoint)
        (written,) = [e.message for e in events if isinstance(e, StaffMessageWritten)]
        assert written.vendor_message_id == vendor_id
        assert (written.thread_id, written.in_reply_to) == (thread_id, message_id)
        assert written.citizen_id == citizen
        assert written.service_code == harness.open_service()
        assert written.subject == "Re: Medisiner"
        assert written.body == "Ja, vi tar dem med i morgen."
        assert written.interim
