"""An end-to-end world with message protection on: the engine and the portal hold their own keys.

As :func:`tests.engine.world.world` builds it (a vendor mock, a store, the
engine's loops in threads, the portal simulator), with each side's transport
a :class:`ProtectedTransport`: the engine signs as the municipality and reads
the portal's certificates from its party folder; the portal simulator signs as
Helsenorge and reads the municipality's (and its services') from its own.

``senders`` are extra HER-ids the portal may send as, each signing with the
certificate given and listed in the engine's party folder with the certificate
given (so a test can make a sender whose certificate is expired, revoked, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from digidialog.protection.enveloping import DecryptionKey
from digidialog.protection.protector import CmsProtection, Identity
from digidialog.protection.transport import ProtectedTransport
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.testing import mocks
from digidialog.testing.certificates import Issued, write_party
from digidialog.testing.portal import PortalSimulator
from digidialog.transport import Transport, async_queue, error_queue, sync_queue
from tests.engine.world import World, backend_for, expire_test_queues, unique_her_id
from tests.protection.pki import Pki, protection


@dataclass(frozen=True)
class Sender:
    """A HER-id the portal sends as: what it signs with, what the engine's party file lists."""

    signs_with: Issued
    listed: Issued | None
    """``None``: the engine has no party file for it."""


@dataclass
class ProtectedWorld:
    """A world and what protection adds: both sides' protection and a bare transport."""

    world: World
    engine_protection: CmsProtection
    portal_protection: CmsProtection
    bare: Transport
    """A transport without protection (to put raw bytes on a queue, or read an error queue)."""
    senders: dict[str, str]
    """Each sender's name (a key of ``senders``) and the HER-id made for it."""


@contextmanager
def protected_world(backend: str, tmp_path: Path, pki: Pki, *, vendor: str = "gerica",
                    senders: Mapping[str, Sender] | None = None,
                    engine_previous: Issued | None = None,
                    portal_encrypts_for: Issued | None = None) -> Iterator[ProtectedWorld]:
    """A started, protected world; everything stopped and removed afterwards.

    ``engine_previous`` is the engine's previous encryption certificate (a
    rollover); ``portal_encrypts_for`` the municipality's encryption
    certificate the portal's party files name (the current one by default).
    """
    municipality, portal_her_id = unique_her_id(), unique_her_id()
    service, unconfigured = unique_her_id(), unique_her_id()
    made = {name: unique_her_id() for name in senders or {}}
    queues = [async_queue(municipality), sync_queue(municipality), error_queue(municipality),
              async_queue(portal_her_id), sync_queue(portal_her_id), error_queue(portal_her_id),
              f"{portal_her_id}_syncreply", *(error_queue(h) for h in made.values())]
    if backend == "production":
        expire_test_queues()
    engine_parties, portal_parties = tmp_path / "engine-parties", tmp_path / "portal-parties"
    write_party(engine_parties, portal_her_id, pki.portal, name="Helsenorge")
    for her_id in (municipality, service, unconfigured):
        write_party(portal_parties, her_id, signing=pki.municipality.signing.certificate,
                    encryption=(portal_encrypts_for or pki.municipality.encryption).certificate)
    identities = []
    for name, sender in (senders or {}).items():
        if sender.listed is not None:
            write_party(engine_parties, made[name], signing=sender.listed.certificate,
                        encryption=pki.other.encryption.certificate)
        identities.append(Identity(
            sender.signs_with.certificate, sender.signs_with.key,
            DecryptionKey(pki.portal.encryption.certificate, pki.portal.encryption.key),
            her_ids=frozenset({made[name]}), name=name))
    engine_protection = protection(pki, pki.municipality.signing, pki.municipality.encryption,
                                   engine_parties, previous=engine_previous)
    portal_protection = protection(pki, pki.portal.signing, pki.portal.encryption,
                                   portal_parties, identities=identities)
    with ExitStack() as stack:
        harness = mocks.start(vendor, seed_citizens=0)
        stack.callback(harness.stop)
        code = harness.open_service()
        seeded = harness.seed_citizens(2)
        store, bare_factory = stack.enter_context(backend_for(backend, tmp_path, queues))

        def factory() -> Transport:
            return ProtectedTransport(bare_factory(), engine_protection)

        context = Municipality(
            name="Eksempel kommune", her_id=municipality, vendor=vendor,
            adapter=harness.adapter(), routes=(ServiceRoute(code, code, service),),
            portal_her_id=portal_her_id)
        engine = Engine(store, [context], factory, settings=EngineSettings(
            owner=f"test-{municipality}", receive_timeout=0.2, idle_wait=0.05,
            poll_interval=0.2, error_wait=0.2))
        portal_transport = ProtectedTransport(bare_factory(), portal_protection)
        stack.callback(portal_transport.close)
        bare = bare_factory()
        stack.callback(bare.close)
        portal = PortalSimulator(portal_transport, portal_her_id=portal_her_id,
                                 names={municipality: "Eksempel kommune",
                                        service: "Hjemmesykepleien"})
        world = World(vendor, harness, store, engine, portal, municipality, service, code,
                      unconfigured, seeded, factory)
        portal.start()
        stack.callback(portal.stop)
        world.start_engine()
        stack.callback(world.stop_engine)
        yield ProtectedWorld(world, engine_protection, portal_protection, bare, made)
