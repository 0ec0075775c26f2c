"""What every reader returns and every error the check can give: plain values, no parsing here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
WHAT_WE_READ = "CycloneDX (JSON or XML, 1.2 to 1.6), SPDX 2.2/2.3 (JSON or tag-value) and npm package-lock.json v2/v3"
Progress = Callable[[int, int], None]  # (components read so far, components in the file)


@dataclass(frozen=True)
class Component:
    """One dependency as the file declares it. `licenses` holds each declared license as
    (kind, text): kind "expression" (an SPDX id or expression) or "name" (a license's name, as
    CycloneDX allows); empty when nothing was declared."""

    name: str
    version: str | None = None
    purl: str | None = None
    licenses: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple:
        """Two entries with this key are the same component (lockfiles repeat nested copies)."""
        return (self.purl or "", self.name, self.version or "", self.licenses)


@dataclass(frozen=True)
class Document:
    """The components of one file, and what format it was."""

    format: str  # "CycloneDX 1.4 JSON", "SPDX 2.3 tag-value", "npm package-lock v3"
    components: tuple[Component, ...]


class DepsError(ValueError):
    """A file we cannot check; the message names the file and says what is wrong and what to do."""


class TooLarge(DepsError):
    pass


class NotRecognised(DepsError):
    """Not an SBOM or lockfile we read (CycloneDX, SPDX 2.2/2.3, npm package-lock v2/v3)."""


class Unreadable(DepsError):
    """It looks like one of our formats but cannot be read: cut short, invalid, or unsafe."""


def cut_short(text: bytes, line: int) -> bool:
    """Whether a parse error on `line` is at the very end of the text: the file stops in the middle."""
    return line >= text.rstrip().count(b"\n") + 1


def size_text(size: int) -> str:
    """20971520 -> '20 MB'; small sizes in bytes."""
    return f"{size / 1024 / 1024:.3g} MB" if size >= 1024 * 1024 else f"{size} bytes"
