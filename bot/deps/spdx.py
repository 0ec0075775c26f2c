"""SPDX 2.2 and 2.3 documents, JSON and tag-value, read with spdx-tools.

Every package is a component except the ones the document DESCRIBES (the product whose
dependencies we check), unless those are all there is. The license checked is the declared one
(what the package's authors say); when that is NOASSERTION, the concluded one (what whoever made
the SBOM found), if any. Files and snippets are not components.
"""

from __future__ import annotations

from typing import Any

from spdx_tools.spdx.model import Document as SpdxDocument
from spdx_tools.spdx.model import RelationshipType, SpdxNoAssertion
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.parser.tagvalue.parser import Parser as TagValueParser

from bot.deps.model import Component, Document, Unreadable


def read_json(data: dict[str, Any], name: str) -> Document:
    return _document(_parse(lambda: JsonLikeDictParser().parse(data), name), "JSON")


def read_tag_value(text: bytes, name: str) -> Document:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"{name} is not UTF-8 text; save the SPDX document as UTF-8.") from None
    return _document(_parse(lambda: TagValueParser().parse(decoded), name), "tag-value")


def _parse(parse, name: str) -> SpdxDocument:
    try:
        return parse()
    except SPDXParsingError as error:
        problems = [str(m) for m in error.get_messages()][:3]
        raise Unreadable(
            f"{name} is not a valid SPDX 2 document: {'; '.join(problems) or 'unknown problem'}"
            f"{' ...' if len(error.get_messages()) > 3 else ''}. Fix these or export the SBOM again."
        ) from None
    except Exception as error:  # noqa: BLE001 - the tag-value lexer raises bare errors on odd input
        raise Unreadable(f"{name} could not be read as SPDX 2: {error}. Export the SBOM again.") from None


def _document(doc: SpdxDocument, syntax: str) -> Document:
    described = {
        r.related_spdx_element_id
        for r in doc.relationships
        if r.relationship_type == RelationshipType.DESCRIBES and r.spdx_element_id == doc.creation_info.spdx_id
    }
    packages = [p for p in doc.packages if p.spdx_id not in described] or doc.packages
    version = doc.creation_info.spdx_version.removeprefix("SPDX-")
    return Document(f"SPDX {version} {syntax}", tuple(_component(p) for p in packages))


def _component(package) -> Component:
    declared = package.license_declared
    if declared is None or isinstance(declared, SpdxNoAssertion):
        concluded = package.license_concluded
        declared = None if concluded is None or isinstance(concluded, SpdxNoAssertion) else concluded
    purls = [r.locator for r in package.external_references if r.reference_type == "purl"]
    licenses = (("expression", str(declared)),) if declared is not None else ()
    return Component(package.name, package.version, purls[0] if purls else None, licenses)
