"""npm's package-lock.json, versions 2 and 3: every installed package under `packages` with the
license npm copied from its package.json. Version 1 lockfiles record no licenses: we say so.

Nested copies of the same package at the same version (node_modules/a/node_modules/b) are one
component; workspace folders and links (entries outside node_modules) are our own code, not
dependencies. Purls are built with packageurl-python.
"""

from __future__ import annotations

from typing import Any

from packageurl import PackageURL

from bot.deps.model import Component, Document, Unreadable

_MARK = "node_modules/"


def read_lockfile(data: dict[str, Any], name: str) -> Document:
    version = data.get("lockfileVersion")
    if version == 1 or (version not in (2, 3) and "packages" not in data):
        raise Unreadable(
            f"{name} is an npm lockfile version {version}, which records no licenses; run `npm install` with "
            "npm 7 or later to write version 3, or check a CycloneDX SBOM made with `npx @cyclonedx/cyclonedx-npm`."
        )
    packages = data.get("packages")
    if not isinstance(packages, dict):
        raise Unreadable(f"{name}: an npm lockfile's 'packages' should be an object; the lockfile is damaged.")
    components = [
        _component(path, entry)
        for path, entry in packages.items()
        if _MARK in path and isinstance(entry, dict) and not entry.get("link")
    ]
    return Document(f"npm package-lock v{version}", tuple(components))


def _component(path: str, entry: dict[str, Any]) -> Component:
    name = str(entry.get("name") or path.rsplit(_MARK, 1)[-1])
    version = str(entry["version"]) if entry.get("version") else None
    namespace, _, short = name.rpartition("/")
    purl = PackageURL("npm", namespace or None, short, version).to_string()
    return Component(name, version, purl, _licenses(entry.get("license", entry.get("licenses"))))


def _licenses(value: Any) -> tuple[tuple[str, str], ...]:
    """npm's `license` is an SPDX expression; old packages give {"type": ...} or a list of those."""
    if isinstance(value, str) and value.strip():
        return (("expression", value.strip()),)
    if isinstance(value, dict):
        return _licenses(value.get("type"))
    if isinstance(value, list):
        return tuple(lic for item in value for lic in _licenses(item))
    return ()
