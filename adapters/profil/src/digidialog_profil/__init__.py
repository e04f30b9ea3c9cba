"""digidialog adapter for the Profil EPJ (SOAP 1.2, local time, push events).

- :class:`ProfilAdapter`: the EPJ behind digidialog's adapter contract;
- :class:`NotifyEndpoint` / :class:`PushServer`: the NotifyEvent endpoint digidialog hosts;
- :class:`EventStore`: where pushed events are kept durably before they are acknowledged.

The stateful fake Profil for tests and demos is :mod:`digidialog_profil.mock`
(the ``mock`` extra).
"""

from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.push import NotifyEndpoint, PushServer
from digidialog_profil.store import EventStore

__all__ = ["EventStore", "NotifyEndpoint", "ProfilAdapter", "PushServer"]
