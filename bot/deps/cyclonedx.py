"""CycloneDX SBOMs, JSON and XML (spec 1.2 to 1.6), read with cyclonedx-python-lib.

Each component is read on its own (Component.from_json / from_xml) rather than through
Bom.from_json: the Bom keeps its components in a sorted set whose comparisons cost ~0.3 s per
thousand components, and CI runs check SBOMs of tens of thousands. XML is parsed by defusedxml
first (no DTDs, no entity expansion: an XML bomb is refused before it grows). A component the
library refuses (an unknown hash algorithm, a malformed purl: real SBOMs have them) is read from
the plain data instead, for its name, version, purl and licenses only, so one odd entry does not
make a whole SBOM unreadable.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.license import LicenseExpression
from defusedxml import DefusedXmlException

from bot.deps.model import Component, Document, NotRecognised, Progress, Unreadable, cut_short

_NAMESPACE = re.compile(r"^\{(http://cyclonedx\.org/schema/bom/(\d+\.\d+))\}bom$")
_EVERY = 250  # components between progress calls


def read_json(data: dict[str, Any], name: str, progress: Progress | None = None) -> Document:
    version = str(data.get("specVersion") or "?")
    raw = data.get("components") or []
    if not isinstance(raw, list):
        raise Unreadable(f"{name}: CycloneDX 'components' should be a list; the SBOM is not valid CycloneDX.")
    components = list(_with_progress(_json_components(raw), len(raw), progress))
    return Document(f"CycloneDX {version} JSON", tuple(components))


def _json_components(raw: list) -> Iterator[Component]:
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        try:
            parsed = _quietly(CdxComponent.from_json, entry)
        except Exception:  # noqa: BLE001 - the library raises many types; the plain data still names the component
            yield from _plain_json(entry)
            continue
        yield from _flatten(parsed)


def read_xml(text: bytes, name: str, progress: Progress | None = None) -> Document:
    try:
        root = safe_xml.fromstring(text, forbid_dtd=True)
    except DefusedXmlException:
        raise Unreadable(
            f"{name} declares a DTD or XML entities, which no SBOM needs and which can make a parser expand "
            "it without end (an 'XML bomb'); we refuse it. Export the SBOM again without a DOCTYPE."
        ) from None
    except ParseError as error:
        raise Unreadable(f"{name} is not valid XML: {_xml_problem(error, text)}") from None
    m = _NAMESPACE.match(root.tag)
    if not m:
        if "spdx" in root.tag.lower() or "rdf" in root.tag.lower():
            raise NotRecognised(f"{name} is SPDX RDF/XML, which we do not read; export SPDX JSON or tag-value.")
        raise NotRecognised(
            f"{name} is XML but not a CycloneDX SBOM (its root is <{root.tag}>); we read CycloneDX, SPDX and npm "
            "lockfiles."
        )
    namespace, version = m[1], m[2]
    found = root.find(f"{{{namespace}}}components")
    elements = list(found) if found is not None else []
    components = list(_with_progress(_xml_components(elements, namespace), len(elements), progress))
    return Document(f"CycloneDX {version} XML", tuple(components))


def _xml_components(elements: list[Element], namespace: str) -> Iterator[Component]:
    for element in elements:
        try:
            parsed = _quietly(CdxComponent.from_xml, element, default_namespace=namespace)
        except Exception:  # noqa: BLE001 - as for JSON: fall back to the plain data
            yield from _plain_xml(element, namespace)
            continue
        yield from _flatten(parsed)


def _quietly(read, *args, **kwargs):
    """The library warns about fields later specs deprecate (`author`); we read them all the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read(*args, **kwargs)


def _xml_problem(error: ParseError, text: bytes) -> str:
    line, column = error.position
    if cut_short(text, line):
        return f"it stops in the middle (line {line}); the file was cut short: save or download it again."
    return f"{str(error).split(':')[0]} at line {line}, column {column}."


def _flatten(component: CdxComponent) -> Iterator[Component]:
    """The component and the components nested in it (CycloneDX allows a tree)."""
    licenses = tuple(
        ("expression", lic.value)
        if isinstance(lic, LicenseExpression)
        else ("expression", lic.id)
        if lic.id
        else ("name", lic.name)
        for lic in component.licenses
        if getattr(lic, "value", None) or getattr(lic, "id", None) or getattr(lic, "name", None)
    )
    yield Component(component.name, component.version, str(component.purl) if component.purl else None, licenses)
    for child in component.components:
        yield from _flatten(child)


def _plain_json(entry: dict) -> Iterator[Component]:
    licenses = []
    for choice in entry.get("licenses") or []:
        if not isinstance(choice, dict):
            continue
        lic = choice.get("license") if isinstance(choice.get("license"), dict) else {}
        if choice.get("expression"):
            licenses.append(("expression", str(choice["expression"])))
        elif lic.get("id"):
            licenses.append(("expression", str(lic["id"])))
        elif lic.get("name"):
            licenses.append(("name", str(lic["name"])))
    name = str(entry.get("name") or entry.get("purl") or "(no name)")
    yield Component(name, _text(entry.get("version")), _text(entry.get("purl")), tuple(licenses))
    for child in entry.get("components") or []:
        if isinstance(child, dict):
            yield from _plain_json(child)


def _plain_xml(element: Element, namespace: str) -> Iterator[Component]:
    ns = f"{{{namespace}}}"
    licenses = []
    for choice in element.iterfind(f"{ns}licenses/*"):
        if choice.tag == f"{ns}expression" and (choice.text or "").strip():
            licenses.append(("expression", choice.text.strip()))
        elif (lic_id := choice.findtext(f"{ns}id")) and lic_id.strip():
            licenses.append(("expression", lic_id.strip()))
        elif (lic_name := choice.findtext(f"{ns}name")) and lic_name.strip():
            licenses.append(("name", lic_name.strip()))
    name = element.findtext(f"{ns}name") or element.findtext(f"{ns}purl") or "(no name)"
    yield Component(
        name.strip(), _text(element.findtext(f"{ns}version")), _text(element.findtext(f"{ns}purl")), tuple(licenses)
    )
    for child in element.iterfind(f"{ns}components/{ns}component"):
        yield from _plain_xml(child, namespace)


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _with_progress(components: Iterable[Component], total: int, progress: Progress | None) -> Iterator[Component]:
    done = 0
    for done, component in enumerate(components, 1):
        if progress and done % _EVERY == 0:
            progress(min(done, total), total)
        yield component
    if progress:
        progress(total, total)
