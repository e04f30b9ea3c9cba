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
from digidialog.testing.certificates import Issued, write_party
from digidialog.transport import Transport, error_queue
from tests.engine.world import Addresses, World, unique_her_id
from tests.engine.world import world as engine_world
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
    at = Addresses.fresh()
    made = {name: unique_her_id() for name in senders or {}}
    engine_parties, portal_parties = tmp_path / "engine-parties", tmp_path / "portal-parties"
    write_party(engine_parties, at.portal, pki.portal, name="Helsenorge")
    for her_id in (at.municipality, at.service, at.second_service, at.unconfigured_service):
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
        world = stack.enter_context(engine_world(
            vendor, backend, tmp_path, addresses=at,
            extra_queues=tuple(error_queue(h) for h in made.values()),
            engine_transport=lambda bare: ProtectedTransport(bare, engine_protection),
            portal_transport=lambda bare: ProtectedTransport(bare, portal_protection)))
        bare = world.bare_transport_factory()
        stack.callback(bare.close)
        yield ProtectedWorld(world, engine_protection, portal_protection, bare, made)
