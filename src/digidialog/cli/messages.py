"""``digidialog validate | decode | encode``: the message formats for people and scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from digidialog.cli.files import read_limited
from digidialog.errors import DigidialogError
from digidialog.helsenorge import PortalMessage, decode, encode

FilesArgument = Annotated[list[Path], typer.Argument(help="Message files (MsgHead or AppRec XML)")]


def validate(files: FilesArgument) -> None:
    """Check each file is a message digidialog accepts: `ok FILE` or `invalid FILE: reason`.

    Exits 0 only if every file is valid. A file is valid when it is well-formed,
    validates against the Helsenorge schemas, belongs to a process digidialog
    serves and follows its rules (a valid national id, Patient where required,
    the documents the function needs).
    """
    all_valid = True
    for path in files:
        try:
            decode(read_limited(path))
        except DigidialogError as error:
            all_valid = False
            typer.echo(f"invalid {path}: {error}")
        else:
            typer.echo(f"ok {path}")
    raise typer.Exit(0 if all_valid else 1)


def decode_command(
    file: Annotated[Path, typer.Argument(help="A MsgHead or AppRec XML file")],
) -> None:
    """Print the decoded message as JSON (the stable form documented in the README)."""
    try:
        message = decode(read_limited(file))
    except DigidialogError as error:
        typer.echo(f"invalid {file}: {error}", err=True)
        raise typer.Exit(1) from None
    sys.stdout.write(message.model_dump_json(indent=2) + "\n")


def encode_command(
    file: Annotated[Path, typer.Argument(help="A message in digidialog's JSON form")],
) -> None:
    """Turn the JSON form of a message back into XML on stdout."""
    try:
        message, ignored = _read_json_form(read_limited(file))
        xml = encode(message)
    except ValidationError as error:
        typer.echo(f"invalid {file}: {_describe(error)}", err=True)
        raise typer.Exit(1) from None
    except DigidialogError as error:
        typer.echo(f"invalid {file}: {error}", err=True)
        raise typer.Exit(1) from None
    if ignored:
        typer.echo(f"note: {file}: ignored keys this version does not know: "
                   f"{', '.join(ignored)}", err=True)
    sys.stdout.buffer.write(xml + b"\n")


def _read_json_form(text: bytes) -> tuple[PortalMessage, list[str]]:
    """The message in ``text``, ignoring keys this version does not know, and those keys.

    The JSON form may gain keys (README); a file written by a later version must
    still encode. The models themselves forbid unknown keys so that a typo in code
    is caught, so the keys are found with one strict pass and ignored in a second.
    """
    try:
        return PortalMessage.model_validate_json(text), []
    except ValidationError as error:
        unknown = [".".join(str(part) for part in item["loc"])
                   for item in error.errors() if item["type"] == "extra_forbidden"]
        if not unknown:
            raise
    return PortalMessage.model_validate_json(text, extra="ignore"), unknown


def _describe(error: ValidationError) -> str:
    """Where and what, without echoing the input (it may hold national ids)."""
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "document"
        parts.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
