"""Small helpers for reading and making element trees, shared by the codecs and the adapters."""

from __future__ import annotations

from typing import cast

from lxml import etree

from digidialog.errors import SchemaViolation


def child(parent: etree._Element, tag: str) -> etree._Element | None:
    """The first child of ``parent`` named ``tag`` (Clark notation), if any."""
    # iterchildren filters in C; find() goes through lxml's Python ElementPath,
    # twice as slow, which adds up over the dozens of look-ups per message.
    return next(parent.iterchildren(tag), None)


def first_children(parent: etree._Element) -> dict[str, etree._Element]:
    """Each child tag's first element, in one pass (cheaper than one look-up per tag)."""
    found: dict[str, etree._Element] = {}
    for element in parent:
        found.setdefault(element.tag, element)
    return found


def required(found: dict[str, etree._Element], tag: str, parent: etree._Element) -> etree._Element:
    """``found[tag]`` (from :func:`first_children` of ``parent``), or a
    :class:`SchemaViolation` naming the missing element at ``parent``."""
    element = found.get(tag)
    if element is None:
        raise SchemaViolation(f"missing {etree.QName(tag).localname}", location=where(parent))
    return element


def need(parent: etree._Element, tag: str) -> etree._Element:
    """The first child named ``tag``, or a :class:`SchemaViolation` naming it."""
    found = next(parent.iterchildren(tag), None)
    if found is None:
        raise SchemaViolation(f"missing {etree.QName(tag).localname}", location=where(parent))
    return found


def text_of(parent: etree._Element, tag: str) -> str | None:
    """Text of the first child named ``tag``, or ``None`` when absent."""
    found = next(parent.iterchildren(tag), None)
    return None if found is None else (found.text or "")


def need_text(parent: etree._Element, tag: str) -> str:
    """Stripped text of a mandatory child."""
    value = (need(parent, tag).text or "").strip()
    if not value:
        raise SchemaViolation(f"{etree.QName(tag).localname} is empty", location=where(parent))
    return value


def root_element(tag: str, default_namespace: str, **prefixes: str) -> etree._Element:
    """A new root element declaring ``default_namespace`` and any prefixed namespaces."""
    namespaces: dict[str | None, str] = {None: default_namespace}
    namespaces.update(prefixes)
    return etree.Element(tag, nsmap=namespaces)  # type: ignore[arg-type]  # stubs lack None keys


def line_of(element: etree._Element) -> int | None:
    """The source line of an element (lxml-stubs mistype ``sourceline``)."""
    return cast("int | None", element.sourceline)


def where(element: etree._Element) -> str:
    """A location for error messages: element name and line."""
    return f"{etree.QName(element).localname} (line {element.sourceline})"
