"""Files attached to a message (PDF, JPEG, PNG), carried base64 in the portal format."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from digidialog.domain.base import Frozen


class Attachment(Frozen):
    """One attached file. In JSON its bytes travel as base64."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    mime_type: str = Field(min_length=1)
    description: str | None = None
    data: bytes
