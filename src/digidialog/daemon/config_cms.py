"""``[portal.cms]`` and ``[municipality.cms]``: the keys and certificates of message protection.

With ``[portal] protection = "cms"``, ``[portal.cms]`` is required: our
signing and encryption certificates with their private keys (and, during a
rollover, the previous encryption certificate and key), the trust store, the
CRLs and the folder of party certificate files. A ``[municipality.cms]``
table gives one municipality keys of its own (its own enterprise
certificate); without one, a municipality uses those of ``[portal.cms]``.

Key passwords are secrets (their keys end in ``password``) and may be written
``{ env = "NAME" }``. Relative paths are read from the configuration file's
folder. This module checks that the files exist; whether they hold what they
should (a key that fits its certificate, a password that opens it) is
checked when the daemon builds its protection, still before anything starts
(:mod:`digidialog.daemon.protection`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from digidialog.daemon.config_fields import BASE_DIR, ExistingFile, problem

DEFAULT_EXPIRY_WARNING_DAYS = 30


def _existing_path(value: Any, info: ValidationInfo, *, folder: bool | None) -> Path:
    if not isinstance(value, str | Path) or not str(value):
        raise problem("expected a path")
    path = Path(value).expanduser()
    if not path.is_absolute():
        context = info.context if isinstance(info.context, dict) else {}
        path = Path(context.get(BASE_DIR) or Path.cwd()) / path
    if folder and not path.is_dir():
        raise problem(f"no such folder: {path}")
    if folder is None and not path.exists():
        raise problem(f"no such file or folder: {path}")
    return path


def existing_folder(value: Any, info: ValidationInfo) -> Path:
    """A folder that exists; a relative path is read from the configuration file's folder."""
    return _existing_path(value, info, folder=True)


def existing_file_or_folder(value: Any, info: ValidationInfo) -> Path:
    """A file or a folder that exists (a folder stands for the certificates in it)."""
    return _existing_path(value, info, folder=None)


ExistingFolder = Annotated[Path, BeforeValidator(existing_folder)]
ExistingFileOrFolder = Annotated[Path, BeforeValidator(existing_file_or_folder)]


class _Section(BaseModel):
    # as config_models.Section (which imports this module): immutable, unknown keys refused
    model_config = ConfigDict(frozen=True, extra="forbid")


class CmsKeysConfig(_Section):
    """Our own certificates and their keys (``[municipality.cms]``, and part of ``[portal.cms]``).

    ``previous_encryption_certificate`` and ``previous_encryption_key`` are
    for a rollover: messages still encrypted for the old certificate are read
    with them. Remove them once the new certificate is in every CPA.
    """

    signing_certificate: ExistingFile
    signing_key: ExistingFile
    signing_key_password: SecretStr | None = None
    encryption_certificate: ExistingFile
    encryption_key: ExistingFile
    encryption_key_password: SecretStr | None = None
    previous_encryption_certificate: ExistingFile | None = None
    previous_encryption_key: ExistingFile | None = Field(default=None, validate_default=True)
    previous_encryption_key_password: SecretStr | None = None

    @field_validator("previous_encryption_key")
    @classmethod
    def _previous_in_pairs(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        given = "previous_encryption_certificate" in info.data and \
            info.data["previous_encryption_certificate"] is not None
        if value is None and given:
            raise problem("required with previous_encryption_certificate")
        if value is not None and not given and "previous_encryption_certificate" in info.data:
            raise problem("given without previous_encryption_certificate")
        return value


class CmsConfig(CmsKeysConfig):
    """``[portal.cms]``: our default keys, and how the other parties' certificates are checked.

    ``trust_store`` lists CA certificate files (PEM bundles or DER) or folders
    of them: every certificate in it is trusted, and a party's certificate
    must chain to one. ``crls`` lists CRL files, re-read when replaced;
    ``require_crls`` refuses a certificate whose issuer has no CRL configured.
    ``parties`` is the folder of party certificate files (``<her_id>.toml``).
    ``refuse_legacy_ciphers`` refuses messages encrypted with 3DES or DES.
    """

    trust_store: tuple[ExistingFileOrFolder, ...]
    crls: tuple[ExistingFile, ...] = ()
    require_crls: bool = False
    parties: ExistingFolder
    refuse_legacy_ciphers: bool = True
    expiry_warning_days: int = Field(default=DEFAULT_EXPIRY_WARNING_DAYS, ge=1, le=365)

    @field_validator("trust_store", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and not value:
            raise problem("name at least one CA certificate file or folder")
        return value
