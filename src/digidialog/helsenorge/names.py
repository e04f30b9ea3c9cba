"""Namespaces and code systems of the national standards, and how a coded value is written."""

from __future__ import annotations

from digidialog.xml.text import esc_attr

MSGHEAD = "http://www.kith.no/xmlstds/msghead/2006-05-24"
DIALOG = "http://www.kith.no/xmlstds/dialog/2013-01-23"
XCAL = "urn:ietf:params:xml:ns:icalendar-2.0"
PASIENTRELASJON = "http://www.kith.no/xmlstds/pasientrelasjon/2014-03-28"
PERSONER = "http://www.kith.no/xmlstds/person/2014-03-28"
TJENESTEOVERSIKT = "http://ehelse.no/xmlstds/tjenesteoversikt"
FK1 = "http://www.kith.no/xmlstds/felleskomponent1"
BASE64 = "http://www.kith.no/xmlstds/base64container"
APPREC = "http://www.kith.no/xmlstds/apprec/2012-02-15"
XHTML = "http://www.w3.org/1999/xhtml"

MSGHEAD_MIG = "v1.2 2006-05-24"
APPREC_MIG = "v1.1 2012-02-15"

# Code systems (OIDs)
ORG_ID_TYPE = "2.16.578.1.12.4.1.1.9051"  # HER, ENH
PERSON_ID_TYPE = "2.16.578.1.12.4.1.1.8116"  # FNR, DNR
REPRESENTATION_ROLE = "2.16.578.1.12.4.1.1.7611"  # FU, FO, VE
YES_NO = "2.16.578.1.12.4.1.1.1101"
NOTE_ROLE = "2.16.578.1.12.4.1.1.9057"  # 1 Forfatter
APPREC_ERROR = "2.16.578.1.12.4.1.1.8221"


def q(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local``."""
    return f"{{{namespace}}}{local}"


def coded(tag: str, v: str, s: str | None = None, dn: str | None = None) -> str:
    """A KITH coded value: ``<tag V=".." S=".." DN=".."/>``."""
    parts = [f'<{tag} V="{esc_attr(v)}"']
    if s is not None:
        parts.append(f' S="{esc_attr(s)}"')
    if dn is not None:
        parts.append(f' DN="{esc_attr(dn)}"')
    parts.append("/>")
    return "".join(parts)
