"""AppRec 1.1: the application receipt for every asynchronous message.

Status from code system 8258 (``1`` OK, ``2`` rejected, ``3`` OK with an error
in a part), errors from 8221, and the original message's Type, issue date and
MsgId.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree
from pydantic import ValidationError

from digidialog.domain import ApplicationReceipt, ReceiptError, ReceiptStatus
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.message import Party
from digidialog.helsenorge.msghead import format_timestamp, parse_timestamp
from digidialog.helsenorge.names import APPREC, APPREC_ERROR, APPREC_MIG, coded, q
from digidialog.xml.text import esc_attr, leaf
from digidialog.xml.tree import child, need, need_text, text_of, where

STATUS_CODES = {ReceiptStatus.OK: "1", ReceiptStatus.REJECTED: "2", ReceiptStatus.PARTLY_OK: "3"}
_STATUS_NAMES = {"1": "OK", "2": "Avvist", "3": "OK, feil i delmelding"}
_CODE_STATUS = {v: k for k, v in STATUS_CODES.items()}


def a(local: str) -> str:
    """An AppRec element name."""
    return q(APPREC, local)


def read_apprec(root: etree._Element) -> tuple[ApplicationReceipt, Party, Party, str, datetime]:
    """The receipt, sender, receiver, the receipt's own id and its generation time."""
    status_element = need(root, a("Status"))
    status = _CODE_STATUS.get((status_element.get("V") or "").strip())
    if status is None:
        raise SchemaViolation(
            "Status is not 1, 2 or 3 (code system 8258)", location=where(status_element)
        )
    errors = tuple(
        ReceiptError(code=(e.get("V") or "").strip(), text=e.get("DN"), details=e.get("OT"))
        for e in root.iterfind(a("Error"))
    )
    original = need(root, a("OriginalMsgId"))
    receipt = ApplicationReceipt(
        status=status,
        errors=errors,
        original_msg_id=need_text(original, a("Id")),
        original_process=(need(original, a("MsgType")).get("V") or "").strip(),
        original_issued_at=parse_timestamp(
            need_text(original, a("IssueDate")), "OriginalMsgId/IssueDate"
        ),
    )
    return (
        receipt,
        _read_party(need(root, a("Sender"))),
        _read_party(need(root, a("Receiver"))),
        need_text(root, a("Id")),
        parse_timestamp(need_text(root, a("GenDate")), "AppRec/GenDate"),
    )


def _read_party(element: etree._Element) -> Party:
    inst = need(need(element, a("HCP")), a("Inst"))
    levels = [inst]
    dept = child(inst, a("Dept"))
    if dept is not None:
        levels.append(dept)
    her_ids: list[str | None] = []
    org_numbers: list[str | None] = []
    names: list[str] = []
    for level in levels:
        type_id = child(level, a("TypeId"))
        ident = (text_of(level, a("Id")) or "").strip() or None
        is_her = type_id is None or type_id.get("V") == "HER"
        her_ids.append(ident if is_her else None)
        org_numbers.append(None if is_her else ident)
        # The official example writes ">Kattskinnet legesenter": a stray '>' is dropped.
        names.append((text_of(level, a("Name")) or "").strip().lstrip(">").strip() or "?")
    try:
        return Party(
            her_ids=tuple(her_ids),
            names=tuple(names),
            org_numbers=tuple(org_numbers) if any(org_numbers) else (),
        )
    except ValidationError as error:
        raise SchemaViolation(str(error.errors()[0]["msg"]), location=where(element)) from None


def apprec_text(
    receipt: ApplicationReceipt, sender: Party, receiver: Party, msg_id: str, generated_at: datetime
) -> str:
    """An AppRec, as text."""
    code = STATUS_CODES[receipt.status]
    parts = [
        f'<AppRec xmlns="{APPREC}"><MsgType V="APPREC"/>',
        leaf("MIGversion", APPREC_MIG),
        leaf("GenDate", format_timestamp(generated_at)),
        leaf("Id", msg_id),
        f"<Sender>{_party_text(sender)}</Sender><Receiver>{_party_text(receiver)}</Receiver>",
        coded("Status", code, dn=_STATUS_NAMES[code]),
    ]
    for error in receipt.errors:
        extra = f' DN="{esc_attr(error.text)}"' if error.text else ""
        extra += f' OT="{esc_attr(error.details)}"' if error.details else ""
        parts.append(f'<Error V="{esc_attr(error.code)}" S="{APPREC_ERROR}"{extra}/>')
    parts += [
        '<OriginalMsgId><MsgType V="', esc_attr(receipt.original_process), '"/>',
        leaf("IssueDate", format_timestamp(receipt.original_issued_at or generated_at)),
        leaf("Id", receipt.original_msg_id),
        "</OriginalMsgId></AppRec>",
    ]
    return "".join(parts)


def _party_text(party: Party) -> str:
    levels = []
    for index, name in enumerate(party.names):
        her_id = party.her_ids[index]
        org = party.org_numbers[index] if party.org_numbers else None
        ident = ""
        if her_id is not None:
            ident = leaf("Id", her_id) + coded("TypeId", "HER", dn="HER-id")
        elif org is not None:
            ident = leaf("Id", org) + coded("TypeId", "ENH", dn="Organisasjonsnummer")
        levels.append(leaf("Name", name) + ident)
    inner = f"<Dept>{levels[1]}</Dept>" if len(levels) > 1 else ""
    return f"<HCP><Inst>{levels[0]}{inner}</Inst></HCP>"
