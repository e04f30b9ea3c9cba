"""Who is a digitally active Helsenorge user, and changes to that."""

from __future__ import annotations

from enum import StrEnum

from digidialog.domain.base import Frozen
from digidialog.domain.national_id import NationalId
from digidialog.domain.timezone import AwareDatetime


class DigitalStatus(StrEnum):
    """Code system 1101 as used by Digitalbruker: 1 active, 2 inactive."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class DigitalStatusChange(Frozen):
    """The portal's word that a citizen became active or inactive."""

    citizen_id: NationalId
    status: DigitalStatus
    changed_at: AwareDatetime
