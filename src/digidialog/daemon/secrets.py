"""Secrets in the configuration: literal, or ``{ env = "NAME" }`` read from the environment.

A key is a secret when it is ``password`` or ends in ``password`` or ``secret``
(``push_password``, ``client_secret``): only those may name an environment
variable, so that a table of ordinary settings is never mistaken for one.
Secrets become :class:`pydantic.SecretStr` once validated, which keeps them out
of reprs and logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SECRET_SUFFIXES = ("password", "secret")
ENV_KEY = "env"


def is_secret_key(key: str) -> bool:
    """Whether a configuration key holds a secret (and so may come from the environment)."""
    return key.lower().endswith(SECRET_SUFFIXES)


def key_path(parts: tuple[str | int, ...]) -> str:
    """``("municipality", 0, "epj", "base_url")`` as ``municipality[1].epj.base_url``.

    List positions are counted from 1, as operators count ``[[municipality]]``
    tables in their file: the first one is ``municipality[1]``.
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass
class SecretResolution:
    """The configuration with environment secrets filled in, and what went wrong doing it."""

    data: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def resolve_secrets(data: Mapping[str, Any], environ: Mapping[str, str] | None = None
                    ) -> SecretResolution:
    """Replace every ``{ env = "NAME" }`` under a secret key by the variable's value.

    Every problem is collected (a variable that is not set or empty, an ``env``
    table under a key that is not a secret, a malformed one); the value of a
    secret that could not be read becomes ``""`` so that the rest of the file
    is still checked and every problem reported at once.
    """
    problems: list[str] = []
    resolved = _walk(data, (), os.environ if environ is None else environ, problems)
    return SecretResolution(data=resolved, problems=problems)


def _walk(value: Any, path: tuple[str | int, ...], env: Mapping[str, str],
          problems: list[str]) -> Any:
    if isinstance(value, Mapping):
        key = path[-1] if path and isinstance(path[-1], str) else None
        if key is not None and is_secret_key(key):
            return _from_environment(value, path, env, problems)
        if set(value) == {ENV_KEY}:
            problems.append(f"{key_path(path)}: only secrets (keys ending in password or "
                            "secret) may be read from the environment")
            return value
        return {k: _walk(v, (*path, k), env, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(item, (*path, i), env, problems) for i, item in enumerate(value)]
    return value


def _from_environment(table: Mapping[str, Any], path: tuple[str | int, ...],
                      env: Mapping[str, str], problems: list[str]) -> str:
    name = table.get(ENV_KEY)
    if set(table) != {ENV_KEY} or not isinstance(name, str) or not name:
        problems.append(f'{key_path(path)}: a secret from the environment is written '
                        '{ env = "NAME" }')
        return ""
    value = env.get(name)
    if value is None:
        problems.append(f"{key_path(path)}: the environment variable {name} is not set")
        return ""
    if not value:
        problems.append(f"{key_path(path)}: the environment variable {name} is empty")
    return value
