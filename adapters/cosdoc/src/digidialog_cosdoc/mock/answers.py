"""The CosDoc mock's answers: one function per command, from a valid request document.

Each handler reads a request document (already validated against the
request schema) and the store, and returns an :class:`Answer`: a Status, an
optional Feiltekst and the answer document, built by the same
:func:`~digidialog_cosdoc.documents.build` the adapter uses, so it is Latin-1
with character references. EKSPORT_AVTALER is answered elsewhere, as a stream.

Contract choices the mock makes where vendors.md is silent (also in the README):

- PASIENTER lists patients in PasientNr order, 1000 at a time, after EtterPasientNr;
- AVTALER returns the appointments whose Dato lies in [FraDato, TilDato];
- DIGITAL_STATUS is all or nothing: an unknown PasientNr answers Status 2;
- SEND_MELDING to a service not open for digital dialog answers Status 1;
- HENT_AVBESTILLINGSSVAR before the decision answers Status 2 (nothing to fetch yet);
- a repeated EksternId returns the first Ref and changes nothing, whatever else
  the repeat says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from lxml import etree

from digidialog_cosdoc.documents import Field, build
from digidialog_cosdoc.mock.state import Avtale, CosDocStore, Innsendt
from digidialog_cosdoc.wire import PAGE_SIZE, Kommando, Status, d, jn


@dataclass(frozen=True)
class Answer:
    """What goes into UtforSvar."""

    status: Status
    feiltekst: str | None = None
    document: bytes | None = None


def _ok(kommando: Kommando, fields: list[Field]) -> Answer:
    return Answer(Status.OK, None, build(kommando, fields))


def _text(root: etree._Element, name: str) -> str:
    return root.findtext(d(name)) or ""


def _optional(root: etree._Element, name: str) -> str | None:
    return root.findtext(d(name))


def not_found(what: str) -> Answer:
    """Status 2."""
    return Answer(Status.NOT_FOUND, f"{what} finnes ikke")


def invalid(why: str) -> Answer:
    """Status 1."""
    return Answer(Status.INVALID_REQUEST, why)


def avtale_fields(avtale: Avtale) -> list[Field]:
    """An Avtale's children in the contract's order."""
    return [
        ("Nr", avtale.nr), ("PasientNr", avtale.pasient_nr), ("TjenesteId", avtale.tjeneste_id),
        ("Status", avtale.status), ("Dato", avtale.dato.isoformat()),
        ("FraKl", avtale.fra_kl), ("TilKl", avtale.til_kl), ("Gjentas", jn(avtale.gjentas)),
        ("Ansatt", avtale.ansatt if avtale.status in ("T", "U") else None),
        ("Tekst", avtale.tekst),
        ("UtfortKl", avtale.utfort_kl if avtale.status == "U" else None),
        ("AvlystAv", avtale.avlyst_av if avtale.status == "A" else None),
    ]


def finn_pasient(store: CosDocStore, root: etree._Element) -> Answer:
    """FINN_PASIENT: Fodselsnummer -> PasientNr."""
    pasient = store.patient_by_national_id(_text(root, "Fodselsnummer"))
    if pasient is None:
        return not_found("pasienten")
    return _ok(Kommando.FINN_PASIENT, [("PasientNr", pasient.nr)])


def tjenester(store: CosDocStore, root: etree._Element) -> Answer:
    """TJENESTER: every service."""
    return _ok(Kommando.TJENESTER, [
        ("Tjeneste", [("Id", t.id), ("Navn", t.navn), ("Digital", jn(t.digital))])
        for t in sorted(store.tjenester.values(), key=lambda t: t.id)
    ])


def pasienter(store: CosDocStore, root: etree._Element) -> Answer:
    """PASIENTER: the next 1000 patients after EtterPasientNr, and whether more follow."""
    after = int(_text(root, "EtterPasientNr"))
    following = sorted(nr for nr in store.pasienter if nr > after)
    page = [store.pasienter[nr] for nr in following[:PAGE_SIZE]]
    return _ok(Kommando.PASIENTER, [
        *(("Pasient", [("PasientNr", p.nr), ("Fodselsnummer", p.fodselsnummer),
                       ("Navn", p.navn), *(("TjenesteId", t) for t in p.tjenester),
                       ("Digital", jn(p.digital))]) for p in page),
        ("Flere", jn(len(following) > PAGE_SIZE)),
    ])


def digital_status(store: CosDocStore, root: etree._Element) -> Answer:
    """DIGITAL_STATUS: all patients updated, or none (Status 2) if one is unknown."""
    updates = [(int(_text(p, "PasientNr")), _text(p, "Aktiv") == "J",
                date.fromisoformat(_text(p, "Fra"))) for p in root.iterchildren(d("Pasient"))]
    if any(nr not in store.pasienter for nr, _, _ in updates):
        return not_found("pasienten")
    for nr, active, since in updates:
        store.pasienter[nr].digital = active
        store.pasienter[nr].digital_fra = since
    return _ok(Kommando.DIGITAL_STATUS, [("Antall", len({nr for nr, _, _ in updates}))])


def avtaler(store: CosDocStore, root: etree._Element) -> Answer:
    """AVTALER: a patient's appointments with Dato in [FraDato, TilDato]."""
    nr = int(_text(root, "PasientNr"))
    if nr not in store.pasienter:
        return not_found("pasienten")
    first = date.fromisoformat(_text(root, "FraDato"))
    last = date.fromisoformat(_text(root, "TilDato"))
    if last < first:
        return invalid("TilDato er før FraDato")
    found = sorted((a for a in store.avtaler.values()
                    if a.pasient_nr == nr and first <= a.dato <= last),
                   key=lambda a: (a.dato, a.fra_kl, a.nr))
    return _ok(Kommando.AVTALER, [("Avtale", avtale_fields(a)) for a in found])


def hendelser(store: CosDocStore, root: etree._Element) -> Answer:
    """HENDELSER: at most Maks events after EtterId, oldest first."""
    after, most = int(_text(root, "EtterId")), int(_text(root, "Maks"))
    return _ok(Kommando.HENDELSER, [
        ("Hendelse", [("Id", h.id), ("Type", h.type.value), ("PasientNr", h.pasient_nr),
                      ("Ref", h.ref)])
        for h in store.hendelser[after : after + most]
    ])


def hent_avtale(store: CosDocStore, root: etree._Element) -> Answer:
    """HENT_AVTALE: one appointment by Ref (its Nr)."""
    ref = _text(root, "Ref")
    avtale = store.avtaler.get(int(ref)) if ref.isdigit() else None
    if avtale is None:
        return not_found("avtalen")
    return _ok(Kommando.HENT_AVTALE, [("Avtale", avtale_fields(avtale))])


def hent_melding(store: CosDocStore, root: etree._Element) -> Answer:
    """HENT_MELDING: one staff message by Ref."""
    melding = store.meldinger.get(_text(root, "Ref"))
    if melding is None:
        return not_found("meldingen")
    return _ok(Kommando.HENT_MELDING, [("Melding", [
        ("MeldingId", melding.melding_id), ("TradId", melding.trad_id),
        ("SvarPaMeldingId", melding.svar_pa), ("TjenesteKode", melding.tjeneste_id),
        ("PasientNr", melding.pasient_nr), ("Emne", melding.emne), ("Tekst", melding.tekst),
        ("Forfatter", melding.forfatter),
        ("Sendt", [("Dato", melding.sendt.date().isoformat()),
                   ("Kl", melding.sendt.strftime("%H:%M"))]),
        ("Midlertidig", jn(melding.midlertidig)), ("Type", melding.melding_type),
    ])])


def _children(root: etree._Element) -> dict[str, object]:
    return {etree.QName(c).localname: (c.text if len(c) == 0 else
                                       {etree.QName(g).localname: g.text for g in c})
            for c in root}


def send_melding(store: CosDocStore, root: etree._Element) -> Answer:
    """SEND_MELDING: store a citizen's message once per EksternId; its Ref."""
    ekstern_id = _text(root, "EksternId")
    known = store.sendt.get(ekstern_id)
    if known is None:
        nr, service = int(_text(root, "PasientNr")), int(_text(root, "TjenesteId"))
        if nr not in store.pasienter:
            return not_found("pasienten")
        tjeneste = store.tjenester.get(service)
        if tjeneste is None or not tjeneste.digital:
            return invalid("tjenesten er ikke åpen for digital dialog")
        known = Innsendt(ekstern_id, store.new_ref("S"), nr, _children(root), [service])
        store.sendt[ekstern_id] = known
    return _ok(Kommando.SEND_MELDING, [("Ref", known.ref)])


def avbestill(store: CosDocStore, root: etree._Element) -> Answer:
    """AVBESTILL: register a cancellation once per EksternId (decided later); its Ref."""
    ekstern_id = _text(root, "EksternId")
    known = store.avbestillinger.get(ekstern_id)
    if known is None:
        nr = int(_text(root, "PasientNr"))
        if nr not in store.pasienter:
            return not_found("pasienten")
        fields = _children(root)
        services = [int(t.text or "0") for t in root.iterchildren(d("TjenesteId"))]
        if "AvtaleNr" in fields:
            avtale = store.avtaler.get(int(str(fields["AvtaleNr"])))
            if avtale is None or avtale.pasient_nr != nr:
                return not_found("avtalen")
        elif (str(fields["TilDato"]), str(fields["TilKl"])) <= (
                str(fields["FraDato"]), str(fields["FraKl"])):
            return invalid("perioden slutter før den begynner")
        known = Innsendt(ekstern_id, store.new_ref("A"), nr, fields, services)
        store.avbestillinger[ekstern_id] = known
    return _ok(Kommando.AVBESTILL, [("Ref", known.ref)])


def _cancellation_by_ref(store: CosDocStore, ref: str) -> Innsendt | None:
    return next((a for a in store.avbestillinger.values() if a.ref == ref), None)


def hent_avbestillingssvar(store: CosDocStore, root: etree._Element) -> Answer:
    """HENT_AVBESTILLINGSSVAR: the decision on a cancellation, once it is decided."""
    request = _cancellation_by_ref(store, _text(root, "Ref"))
    if request is None or not request.decided:
        return not_found("avbestillingssvaret")
    return _ok(Kommando.HENT_AVBESTILLINGSSVAR, [
        ("EksternId", request.ekstern_id), ("Akseptert", jn(request.akseptert)),
        ("Kommentar", request.kommentar), *(("AvtaleNr", nr) for nr in request.avtaler),
    ])


HANDLERS: dict[Kommando, Callable[[CosDocStore, etree._Element], Answer]] = {
    Kommando.FINN_PASIENT: finn_pasient,
    Kommando.TJENESTER: tjenester,
    Kommando.PASIENTER: pasienter,
    Kommando.DIGITAL_STATUS: digital_status,
    Kommando.AVTALER: avtaler,
    Kommando.HENDELSER: hendelser,
    Kommando.HENT_AVTALE: hent_avtale,
    Kommando.HENT_MELDING: hent_melding,
    Kommando.SEND_MELDING: send_melding,
    Kommando.AVBESTILL: avbestill,
    Kommando.HENT_AVBESTILLINGSSVAR: hent_avbestillingssvar,
}
"""Every command but EKSPORT_AVTALER, which is streamed."""
