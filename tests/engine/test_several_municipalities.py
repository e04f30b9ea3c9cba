"""Several municipalities, each with its own EPJ vendor, served by one engine."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path

from digidialog.helsenorge import Function
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.testing import mocks
from digidialog.testing.portal import PortalSimulator
from digidialog.transport import async_queue, error_queue, sync_queue
from tests.engine.world import backend_for, eventually, unique_her_id


def test_two_municipalities_on_two_vendors_in_one_engine(backend: str, tmp_path: Path) -> None:
    """Each municipality's messages reach its own EPJ, and each EPJ's answers come back
    from the right municipality; neither sees the other's traffic."""
    portal_her_id = unique_her_id()
    places = {vendor: (unique_her_id(), unique_her_id()) for vendor in ("gerica", "profil")}
    queues = [async_queue(portal_her_id), error_queue(portal_her_id)]
    for municipality, _service in places.values():
        queues += [async_queue(municipality), sync_queue(municipality), error_queue(municipality)]
    stop = threading.Event()
    with ExitStack() as stack:
        harnesses = {}
        for vendor in places:
            harnesses[vendor] = mocks.start(vendor, seed_citizens=0)
            stack.callback(harnesses[vendor].stop)
        store, factory = stack.enter_context(backend_for(backend, tmp_path, queues))
        contexts = [
            Municipality(name=f"{vendor} kommune", her_id=municipality, vendor=vendor,
                         adapter=harnesses[vendor].adapter(), portal_her_id=portal_her_id,
                         routes=(ServiceRoute(harnesses[vendor].open_service(),
                                              harnesses[vendor].open_service(), service),))
            for vendor, (municipality, service) in places.items()
        ]
        engine = Engine(store, contexts, factory, settings=EngineSettings(
            owner="two", receive_timeout=0.2, idle_wait=0.05, poll_interval=0.2))
        threads = [threading.Thread(target=loop, args=(stop,), daemon=True)
                   for loop in engine.loops().values()]
        for thread in threads:
            thread.start()
        stack.callback(lambda: [stop.set(), *(t.join(10) for t in threads)])
        transport = factory()
        stack.callback(transport.close)
        portal = PortalSimulator(transport, portal_her_id=portal_her_id).start()
        stack.callback(portal.stop)

        sent = {}
        for vendor, (municipality, service) in places.items():
            citizen = harnesses[vendor].seed_citizens(1)[0]
            sent[vendor] = (citizen, portal.send_citizen_message(municipality, service, citizen))
        for vendor, (citizen, message) in sent.items():
            harness = harnesses[vendor]
            eventually(lambda h=harness, m=message: h.delivered(m.msg_id),
                       what=f"the message in {vendor}")
            other = next(h for v, h in harnesses.items() if v != vendor)
            assert other.delivered(message.msg_id) == []
            harness.write_staff_message(citizen, f"Svar fra {vendor}.",
                                        thread_id=message.msg_id, in_reply_to=message.msg_id)
        for vendor, (_citizen, message) in sent.items():
            municipality = places[vendor][0]
            [answer] = portal.wait_for(function=Function.SERVICE_REPLY, thread=message.msg_id,
                                       timeout=15)
            assert answer.message.body == f"Svar fra {vendor}."
            assert answer.message.sender.her_ids[0] == municipality
        portal.assert_no_violations()
