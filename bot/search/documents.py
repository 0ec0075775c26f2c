"""Markdown files with optional YAML front matter -> documents -> sections -> chunks.

A section is the text under one heading, quoted whole when it fits (bot/search/quote.py). It may
carry "asked as" phrasings, an HTML comment right after its heading listing how people ask for it:

    ## Who may sign a corporate CLA

    <!-- asked as:
    - can my manager sign the cla for our team
    -->

A chunk is what retrieval embeds and ranks: a piece of a section's text (bot/search/passages.py)
or one of its phrasings. Each knows its document, its heading path and an anchor. Bad files raise
DocumentError with a message that names what is wrong.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import yaml

from bot.search.passages import MAX_PIECE_WORDS, piece_text, pieces

MAX_CHUNK_WORDS = MAX_PIECE_WORDS
TEXT, ASKED = "text", "asked"  # what a chunk is: a piece of the section, or a phrasing of a question

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_ASKED_AS = re.compile(r"<!--[ \t]*asked[ -]as:?[ \t]*\n(.*?)-->[ \t]*\n?", re.DOTALL | re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->[ \t]*\n?", re.DOTALL)


class DocumentError(ValueError):
    """A knowledge file that cannot be read as a document."""


@dataclass(frozen=True)
class Chunk:
    path: str
    ordinal: int
    title: str
    headings: tuple[str, ...]  # heading path below the title
    anchor: str
    text: str

    piece: int = 0  # which piece of the section (or which phrasing)
    kind: str = TEXT
    start: int = 0  # the piece's span in its section's text (TEXT only)
    end: int = 0

    @property
    def id(self) -> str:
        # Stable while the section keeps its heading, so edits elsewhere re-embed nothing here.
        return f"{self.path}#{self.anchor}~{'q' if self.kind == ASKED else ''}{self.piece}"

    @property
    def section_id(self) -> str:
        return f"{self.path}#{self.anchor}"

    @property
    def heading(self) -> str:
        return " > ".join(self.headings)

    def embedded_text(self) -> str:
        """What is embedded and keyword-indexed: where the passage sits, then the passage; a
        phrasing alone (it is matched against questions, which name no headings)."""
        if self.kind == ASKED:
            return self.text
        where = " > ".join((self.title, *self.headings))
        return f"{where}\n{plain_text(self.text)}"


@dataclass(frozen=True)
class Section:
    path: str
    ordinal: int
    title: str
    headings: tuple[str, ...]
    anchor: str
    text: str  # markdown, verbatim, without the "asked as" block
    asked_as: tuple[str, ...] = ()
    # What a quote is taken from: the text, and when the text ends on a lead-in ("one of the
    # following will happen:") the subsections it introduces, their headings in bold.
    quote_text: str = ""

    @property
    def id(self) -> str:
        return f"{self.path}#{self.anchor}"

    @property
    def heading(self) -> str:
        return " > ".join(self.headings)


@dataclass
class Document:
    path: str
    title: str
    body: str
    file_hash: str
    tags: list[str] = field(default_factory=list)
    owner: str | None = None
    updated: str | None = None
    url: str | None = None
    sections: list[Section] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words, for the model and the keyword index (links keep their text)."""
    text = _COMMENT.sub(" ", markdown)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links
    text = re.sub(r"\{\{[<%].*?[>%]\}\}", " ", text)  # Hugo shortcodes
    text = re.sub(r"<[^>\n]+>", " ", text)  # HTML tags
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"[*_`>#|]+", " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def slugify(heading: str) -> str:
    """GitHub-style anchor: lowercase, punctuation dropped, spaces to hyphens."""
    slug = re.sub(r"[^\w\- ]", "", heading.lower()).strip()
    return re.sub(r"\s+", "-", slug) or "section"


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", text, re.DOTALL)
    if not match:
        raise DocumentError("front matter starts with '---' but has no closing '---' line")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except (yaml.YAMLError, ValueError) as error:  # ValueError: e.g. a date like 2026-13-45
        raise DocumentError(f"front matter is not valid YAML: {error}".splitlines()[0]) from None
    if not isinstance(meta, dict):
        raise DocumentError("front matter must be a YAML mapping of keys (title, tags, ...)")
    return meta, text[match.end() :]


def _as_text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


def _as_tags(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    if isinstance(value, list):
        return [str(tag) for tag in value if tag is not None]
    return [str(value)]


def read_document(path: Path, root: Path, prefix: str = "") -> Document:
    """Read one markdown file into a Document with its chunks; its path is prefix + the path
    relative to root."""
    relative = prefix + path.relative_to(root).as_posix()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"cannot read file: {error.strerror or error}") from None
    if b"\x00" in data:
        raise DocumentError("binary file (contains NUL bytes), not markdown")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("not UTF-8 text; save it as UTF-8") from None
    meta, body = split_front_matter(text)
    if not body.strip():
        raise DocumentError("empty file: no text after the front matter")
    title = _as_text(meta.get("title")) or _first_h1(body) or _title_from_name(path)
    document = Document(
        path=relative,
        title=" ".join(title.split()),
        body=body,
        file_hash=file_hash(data),
        tags=_as_tags(meta.get("tags")),
        owner=_as_text(meta.get("owner")),
        updated=_as_text(meta.get("updated") or meta.get("date")),
        url=_as_text(meta.get("url")),
    )
    document.sections = document_sections(document)
    document.chunks = chunk_document(document)
    if not document.chunks:
        raise DocumentError("no text to index (only headings or markup)")
    return document


def _first_h1(body: str) -> str | None:
    for line in body.splitlines():
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            return _clean_heading(match.group(2))
    return None


def _title_from_name(path: Path) -> str:
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


def _clean_heading(text: str) -> str:
    text = re.sub(r"\{#[^}]*\}", "", text)  # {#custom-anchor}
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their words
    return text.replace("`", "").replace("*", "").strip()


def _sections(body: str, title: str):
    """Yield (heading path, text) for every section, headings inside code fences ignored."""
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush():
        headings = tuple(h for _, h in stack)
        return headings, "\n".join(lines).strip()

    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        yield flush()
        lines = []
        level, heading = len(match.group(1)), _clean_heading(match.group(2))
        while stack and stack[-1][0] >= level:
            stack.pop()
        if not (level == 1 and heading == title and not stack):
            stack.append((level, heading))
    yield flush()


def split_asked_as(text: str) -> tuple[str, tuple[str, ...]]:
    """A section's text without its "asked as" blocks, and the phrasings they list."""
    phrasings = []
    for block in _ASKED_AS.finditer(text):
        for line in block.group(1).splitlines():
            line = line.strip()
            if line[:1] in {"-", "*"} and line[1:].strip():
                phrasings.append(" ".join(line[1:].split()))
    return _ASKED_AS.sub("", text).strip(), tuple(dict.fromkeys(phrasings))


def _has_words(text: str) -> bool:
    return bool(re.search(r"\w{2,}", text))


def document_sections(document: Document) -> list[Section]:
    sections: list[Section] = []
    seen: dict[str, int] = {}
    for headings, raw in _sections(document.body, document.title):
        text, asked_as = split_asked_as(raw)
        if not _has_words(plain_text(text)):
            continue
        anchor = slugify(headings[-1]) if headings else "top"
        if anchor in seen:  # a repeated heading gets -1, -2, ... as on GitHub
            seen[anchor] += 1
            anchor = f"{anchor}-{seen[anchor]}"
        else:
            seen[anchor] = 0
        sections.append(Section(document.path, len(sections), document.title, headings, anchor, text, asked_as))
    return [replace(s, quote_text=_quote_text(s, sections[i + 1 :])) for i, s in enumerate(sections)]


def _quote_text(section: Section, following: list[Section]) -> str:
    if not section.text.rstrip().endswith(":"):
        return section.text
    parts = [section.text]
    for child in following:
        if child.headings[: len(section.headings)] != section.headings or len(child.headings) <= len(section.headings):
            break
        parts.append(f"**{child.headings[-1]}**\n\n{child.text}")
    return "\n\n".join(parts)


def chunk_document(document: Document, max_words: int | None = None) -> list[Chunk]:
    """The section pieces of a document, then its phrasings."""
    max_words = max_words or MAX_CHUNK_WORDS
    chunks: list[Chunk] = []
    sections = document.sections or document_sections(document)
    for section in sections:
        where = (section.path, section.title, section.headings, section.anchor)
        for number, span in enumerate(pieces(section.text, max_words)):
            text = piece_text(section.text, span)
            chunks.append(Chunk(where[0], len(chunks), *where[1:], text, number, TEXT, span.start, span.end))
        for number, phrasing in enumerate(section.asked_as):
            chunks.append(Chunk(where[0], len(chunks), *where[1:], phrasing, number, ASKED))

    return chunks


def knowledge_files(root: Path) -> list[Path]:
    """Every markdown file below root, in a stable order, hidden folders skipped."""
    files = []
    for path in root.rglob("*.md"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() or path.is_symlink():  # a dangling link is reported, not skipped
            files.append(path)
    return sorted(files)
