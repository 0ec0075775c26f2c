"""Reading a file within a size limit and telling its format from its content (never its name: a
`bom.txt` or a `sbom` downloaded from Slack is read as what it is).

    document = read_document(Path("bom.json"))        # -> Document("CycloneDX 1.4 JSON", (...))
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.deps import cyclonedx, npm, spdx
from bot.deps.model import (
    DEFAULT_MAX_BYTES,
    WHAT_WE_READ,
    Document,
    NotRecognised,
    Progress,
    TooLarge,
    Unreadable,
    cut_short,
    size_text,
)

_TAG_VALUE = re.compile(rb"^\s*SPDXVersion:\s*SPDX-", re.MULTILINE)


def read_limited(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes; TooLarge without reading past max_bytes (a 50 MB upload costs 20 MB at most)."""
    try:
        if path.stat().st_size > max_bytes:
            raise TooLarge(too_large_message(str(path), path.stat().st_size, max_bytes))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # a file that grows while we read is still cut at the limit
    except FileNotFoundError:
        raise Unreadable(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise Unreadable(f"{path} is a folder; give the SBOM or lockfile inside it.") from None
    except OSError as error:
        raise Unreadable(f"{path}: cannot read it ({error.strerror or error}).") from None
    if len(data) > max_bytes:
        raise TooLarge(too_large_message(str(path), len(data), max_bytes, exact=False))
    return data


def too_large_message(name: str, size: int, max_bytes: int, exact: bool = True) -> str:
    """exact: `size` is the file's size (else: what we read before we stopped)."""
    size = size_text(size) if exact else "we stopped reading there"
    return (
        f"{name} is larger than the {size_text(max_bytes)} limit ({size}); "
        "check a smaller SBOM (one per service or image), or raise OSPO_SBOM_MAX_MB."
    )


def parse(data: bytes, name: str, progress: Progress | None = None) -> Document:
    """The components of an SBOM or lockfile's bytes; `name` is only for messages."""
    try:
        return _parse(data, name, progress)
    except RecursionError:  # components nested thousands deep: no real SBOM is
        raise Unreadable(f"{name} nests components too deeply to be an SBOM we can read.") from None


def _parse(data: bytes, name: str, progress: Progress | None) -> Document:
    text = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise NotRecognised(f"{name} is empty; give an SBOM or lockfile: we read {WHAT_WE_READ}.")
    if text.startswith(b"{") or text.startswith(b"["):
        return _json(text, name, progress)
    if text.startswith(b"<"):
        return cyclonedx.read_xml(text, name, progress)
    if _TAG_VALUE.search(text[:65536]):
        return spdx.read_tag_value(text, name)
    raise NotRecognised(f"{name} is not an SBOM or lockfile we read: we read {WHAT_WE_READ}.")


def read_document(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, progress: Progress | None = None) -> Document:
    return parse(read_limited(path, max_bytes), str(path), progress)


def _json(text: bytes, name: str, progress: Progress | None) -> Document:
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise Unreadable(f"{name} is not UTF-8 text; save the SBOM as UTF-8 JSON.") from None
    except json.JSONDecodeError as error:
        raise Unreadable(f"{name} is not valid JSON: {_json_problem(error, text)}") from None
    if not isinstance(data, dict):
        raise NotRecognised(f"{name} is JSON but not an SBOM or lockfile: we read {WHAT_WE_READ}.")
    if data.get("bomFormat") == "CycloneDX":
        return cyclonedx.read_json(data, name, progress)
    if isinstance(data.get("spdxVersion"), str):
        return spdx.read_json(data, name)
    if "@context" in data and "spdx" in json.dumps(data["@context"]).lower():
        raise NotRecognised(f"{name} is SPDX 3, which we do not read yet; export SPDX 2.3 (JSON or tag-value).")
    if "lockfileVersion" in data:
        return npm.read_lockfile(data, name)
    raise NotRecognised(f"{name} is JSON but not an SBOM or lockfile: we read {WHAT_WE_READ}.")


def _json_problem(error: json.JSONDecodeError, text: bytes) -> str:
    """Where and what; a file that stops in the middle is said to be cut short."""
    if cut_short(text, error.lineno):
        return f"it stops in the middle (line {error.lineno}); the file was cut short: save or download it again."
    return f"{error.msg} at line {error.lineno}, column {error.colno}."
