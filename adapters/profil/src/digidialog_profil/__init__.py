"""digidialog adapter for the Profil EPJ (SOAP 1.2, local time, push events).

- :class:`ProfilAdapter`: the EPJ behind digidialog's adapter contract;
- :class:`NotifyEndpoint` / :class:`PushServer`: the NotifyEvent endpoint digidialog hosts;
- :class:`EventStore`: where pushed events are kept durably before they are acknowledged;
- :class:`ProfilMock`: a stateful fake of Profil for tests and demos.
"""

from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.mock import ProfilMock
from digidialog_profil.push import NotifyEndpoint, PushServer
from digidialog_profil.store import EventStore

__all__ = ["EventStore", "NotifyEndpoint", "ProfilAdapter", "ProfilMock", "PushServer"]
