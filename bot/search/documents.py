"""Markdown files with optional YAML front matter -> documents -> chunks.

A chunk is one section under a heading (long sections split on paragraph
boundaries) and knows its document, its heading path and an anchor. Bad files
raise DocumentError with a message that names what is wrong.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

# all-MiniLM-L6-v2 reads 256 word pieces; ~1.3 pieces a word plus the title and
# heading we prepend leaves room for ~150 words; 100 measured best (bench/retrieval.py).
MAX_CHUNK_WORDS = 100

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


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

    piece: int = 0  # which piece of a long section

    @property
    def id(self) -> str:
        # Stable while the section keeps its heading, so edits elsewhere re-embed nothing here.
        return f"{self.path}#{self.anchor}~{self.piece}"

    @property
    def heading(self) -> str:
        return " > ".join(self.headings)

    def embedded_text(self) -> str:
        """What is embedded and keyword-indexed: where the passage sits, then the passage."""
        where = " > ".join((self.title, *self.headings))
        return f"{where}\n{plain_text(self.text)}"


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
    chunks: list[Chunk] = field(default_factory=list)


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words, for the model and the keyword index (links keep their text)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", markdown)  # images
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


def split_paragraphs(text: str, max_words: int = MAX_CHUNK_WORDS) -> list[str]:
    """Split text on blank lines into pieces of at most max_words (a longer paragraph stays whole
    unless it is more than twice the limit, then it is split on sentence ends)."""
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for paragraph in _paragraphs(text, max_words):
        words = len(paragraph.split())
        if current and count + words > max_words:
            pieces.append("\n\n".join(current))
            current, count = [], 0
        current.append(paragraph)
        count += words
    if current:
        pieces.append("\n\n".join(current))
    return pieces


def _paragraphs(text: str, max_words: int):
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph.split()) <= max_words * 3 // 2 or paragraph.lstrip().startswith(("```", "~~~")):
            yield paragraph
            continue
        sentence: list[str] = []
        for part in re.split(r"(?<=[.!?])\s+", paragraph):
            sentence.append(part)
            if len(" ".join(sentence).split()) >= max_words:
                yield " ".join(sentence)
                sentence = []
        if sentence:
            yield " ".join(sentence)


def _has_words(text: str) -> bool:
    return bool(re.search(r"\w{2,}", text))


def chunk_document(document: Document, max_words: int | None = None) -> list[Chunk]:
    max_words = max_words or MAX_CHUNK_WORDS
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for headings, text in _sections(document.body, document.title):
        if not _has_words(plain_text(text)):
            continue
        anchor = slugify(headings[-1]) if headings else "top"
        if anchor in seen:  # a repeated heading gets -1, -2, ... as on GitHub
            seen[anchor] += 1
            anchor = f"{anchor}-{seen[anchor]}"
        else:
            seen[anchor] = 0
        for number, piece in enumerate(split_paragraphs(text, max_words)):
            chunks.append(
                Chunk(
                    path=document.path,
                    ordinal=len(chunks),
                    title=document.title,
                    headings=headings,
                    anchor=anchor,
                    text=piece,
                    piece=number,
                )
            )
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
