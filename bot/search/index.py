"""Keep the indexes in step with the knowledge folder.

Two indexes hold every chunk: the database (the ledger, and keyword search: SQLite's FTS5 or
PostgreSQL's full-text search, bot/storage/) and Chroma (our own embeddings, cosine space).
Sync is incremental by content hash: unchanged chunks are never re-embedded. Chroma is written
before the database commits, so a crash mid-sync leaves the database describing older content and the next sync redoes
the work; `repair` reconciles the two when they disagree.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.claims import one_at_a_time
from bot.config import Settings
from bot.search.documents import (
    TEXT,
    Chunk,
    Document,
    DocumentError,
    file_hash,
    knowledge_files,
    read_document,
)
from bot.search.embedder import EMBED_BATCH, Embedder
from bot.store import connect, get_meta, now, set_meta, transaction

log = logging.getLogger(__name__)

# Bump when chunking or the embedded text changes, so every file is read again.
INDEX_FORMAT = "6"
LEARNED_PREFIX = "learned/"
# A sync embeds the changed chunks of several documents together, at least this many at a time, sorted
# by length: a batch is padded to its longest text, and embedded a document at a time, every batch was
# padded to its document's longest chunk (the handbook: 62-72 s instead of 20-25). Bounded, so that a
# killed sync loses at most one round's embedding.
EMBED_ROUND = 1024
# meta keys whose values change whenever the database's chunks do: a token set in the same transaction
# as every change, and the end of each sync that changed something (which also covers a writer that
# predates the token, whose syncs wrote it at every end)
CHANGE_MARKS = ("index_generation", "synced_at")

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


class VectorStore:
    """The Chroma collection: embedded on disk, or a Chroma server when CHROMA_HOST is set."""

    def __init__(self, settings: Settings, collection: str | None = None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from bot.search.nearest import InMemory

        if settings.chroma_host:
            from bot.search.chroma_http import http_client

            self.client = http_client(settings.chroma_host, settings.chroma_port, settings.chroma_timeout_seconds)
            self.where = f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
        else:
            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            self.client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
            self.where = str(settings.chroma_path)
        self.name = collection or settings.chroma_collection  # CHROMA_COLLECTION: several bots, one server
        self.collection = self._open()
        self.in_memory = InMemory()

    def _open(self):
        # embedding_function=None: we always pass our own vectors; chromadb's default downloads one.
        return self.client.get_or_create_collection(
            self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def reset(self) -> None:
        try:
            self.client.delete_collection(self.name)
        except Exception:  # absent already
            pass
        self.collection = self._open()
        self.in_memory.forget()

    def upsert(
        self, ids: list[str], embeddings: list[list[float]], paths: list[str], hashes: list[str] | None = None
    ) -> None:
        """hashes: the content hash each vector was made from, so that `repair` can tell a stale one."""
        if ids:
            metadatas = [{"path": p} for p in paths]
            for metadata, content_hash in zip(metadatas, hashes or [], strict=False):
                metadata["content_hash"] = content_hash
            self.collection.upsert(ids=ids, embeddings=embeddings, metadatas=metadatas)

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.collection.delete(ids=ids)

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def hashes(self) -> dict[str, str | None]:
        """Each vector's id and the content hash it was made from (None: stored before hashes were kept)."""
        got = self.collection.get(include=["metadatas"])
        return {i: (m or {}).get("content_hash") for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def count(self) -> int:
        return self.collection.count()

    def query(self, embedding: list[float], n: int, version=None) -> list[tuple[str, float]]:
        """The n nearest chunks as (chunk id, cosine similarity), best first (fewer when the collection
        holds fewer: Chroma caps n itself, so no count() first, which took as long as the query).
        With a version (changed whenever the collection is), from a copy in memory (bot/search/nearest.py)."""
        if n <= 0:
            return []
        if version is not None:
            hits = self.in_memory.query(self.collection, embedding, n, version)
            if hits is not None:
                return hits
        result = self.collection.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    documents: int = 0
    removed_documents: list[str] = field(default_factory=list)
    changed_documents: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, what is wrong)
    repaired: int = 0
    seconds: float = 0.0
    updated_chunks: list[str] = field(default_factory=list)  # ids whose text changed
    removed_chunks: list[str] = field(default_factory=list)  # ids that are gone

    @property
    def embedded(self) -> int:
        return self.added + self.updated

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "documents": self.documents,
            "changed_documents": self.changed_documents,
            "removed_documents": self.removed_documents,
            "problems": [{"path": p, "problem": m} for p, m in self.problems],
            "repaired": self.repaired,
            "seconds": round(self.seconds, 3),
        }


def rounds(plans: list, size: int):
    """The sync's document plans (document, chunks, changed chunks, gone ids) in consecutive groups of
    at least `size` changed chunks each (the last may hold fewer; one large document may hold more)."""
    group, chunks = [], 0
    for plan in plans:
        group.append(plan)
        chunks += len(plan[2])
        if chunks >= size:
            yield group
            group, chunks = [], 0
    if group:
        yield group


def chunk_hash(chunk: Chunk, model: str) -> str:
    return hashlib.sha256(f"{model}\n{chunk.embedded_text()}".encode()).hexdigest()[:16]


class Lookups:
    """What every question asks the database about chunks (their rows; which words the keyword index
    knows, anywhere or in one section), remembered while the chunks stay as they are. The index's
    change marks (CHANGE_MARKS) say when they changed, here or on another host sharing the database,
    and one read of them per question (Index.lookups) starts a fresh Lookups."""

    MAX_WORDS = 100_000  # remembered word answers before starting over (questions bring new words)

    def __init__(self, marks):
        self.marks = marks
        self._rows: dict[str, tuple] = {}
        self._words: dict[tuple, bool] = {}

    def chunk_rows(self, db, ids: list[str]) -> dict[str, tuple]:
        """chunk id -> (id, path, title, heading, anchor, kind, span_start, span_end) for the ids the
        database lists (an id Chroma has but the database not yet, mid-sync, is left out)."""
        missing = [i for i in ids if i not in self._rows]
        if missing:
            for row in db.execute(
                "SELECT id, path, title, heading, anchor, kind, span_start, span_end FROM chunks "
                f"WHERE id IN ({','.join('?' * len(missing))})",
                missing,
            ):
                self._rows[row[0]] = tuple(row)
        return {i: self._rows[i] for i in ids if i in self._rows}

    def has_word(self, db, word: str, path: str | None = None, anchor: str | None = None) -> bool:
        key = (word, path, anchor)
        known = self._words.get(key)
        if known is None:
            if len(self._words) >= self.MAX_WORDS:
                self._words = {}
            known = self._words[key] = db.dialect.has_word(db, word, path, anchor)
        return known


def index_changed(db) -> None:
    """Call inside the transaction that changes chunks, after their vectors changed: every process's
    Lookups start over, and its copy of the vectors (bot/search/nearest.py) is taken again."""
    set_meta(db, CHANGE_MARKS[0], uuid.uuid4().hex)


class Index:
    """The knowledge folder's indexes: the database (ledger + keyword search) and Chroma."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, vectors: VectorStore | None = None):
        self.settings = settings
        self.root = settings.knowledge_dir
        self._db = connect(settings)
        self.embedder = embedder or Embedder.for_settings(settings)
        self._vectors = vectors
        self._sync_lock = threading.Lock()  # one sync at a time in this process
        self._lookups = Lookups(None)

    @property
    def db(self):
        return self._db.get()

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:  # chromadb is slow to import; only when needed
            self._vectors = VectorStore(self.settings)
        return self._vectors

    def lookups(self) -> Lookups:
        """The chunk lookups for one question: the remembered ones, unless the chunks changed since."""
        marks = dict(
            self.db.execute(
                f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(CHANGE_MARKS))})", CHANGE_MARKS
            ).fetchall()
        )
        lookups = self._lookups
        if lookups.marks != marks:
            lookups = self._lookups = Lookups(marks)
        return lookups

    def _format(self) -> str:
        return f"{INDEX_FORMAT}|{self.embedder.name}"

    def roots(self) -> list[tuple[Path, str]]:
        """(folder, path prefix): the knowledge folder, and the answers saved from Slack."""
        return [(self.root, ""), (self.settings.learned_dir, LEARNED_PREFIX)]

    def _scan(self) -> dict[str, tuple[Path, bytes, Path, str]]:
        if self.db.dialect.SHARED:
            self._learned_from_database()
        files = {}
        for root, prefix in self.roots():
            if not root.is_dir():
                continue
            for path in knowledge_files(root):
                try:
                    data = path.read_bytes()
                except OSError:
                    data = b""  # read_document reports it properly
                files[prefix + path.relative_to(root).as_posix()] = (path, data, root, prefix)
        return files

    def _learned_from_database(self) -> None:
        """With a database that replicas on several hosts share, the answers saved from Slack live in
        it and each host's learned/ folder is a cache of them: write what this host lacks, drop what
        was removed, so that every host's scan (and its sync) sees the same files."""
        folder = self.settings.learned_dir
        rows = {
            r["path"].removeprefix(LEARNED_PREFIX): r["body"]
            for r in self.db.query("SELECT path, body FROM learned WHERE body IS NOT NULL")
        }
        if not rows and not folder.is_dir():
            return
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in rows.items():
            target = folder / name
            if not target.is_file() or target.read_text(encoding="utf-8") != body:
                target.write_text(body, encoding="utf-8")
        for stale in folder.glob("*.md"):
            if stale.name not in rows:
                stale.unlink()

    def is_stale(self) -> bool:
        """Cheap check (hashes only, no model): does the index differ from the folder?"""
        if get_meta(self.db, "index_format") != self._format():
            return True
        stored = {r["path"]: r["file_hash"] for r in self.db["documents"].rows}
        current = {rel: file_hash(data) for rel, (_, data, _, _) in self._scan().items()}
        broken = {rel for rel in current if rel in stored and current[rel] != stored[rel]}
        return bool(set(stored) ^ set(current) or broken)

    def sync(self, progress: Progress | None = None, repair: bool = True) -> SyncReport:
        # One sync at a time across processes too (two `serve` replicas, a `kb sync`): interleaved,
        # one's repair would drop the other's new vectors and both would queue the same notices.
        with self._sync_lock, one_at_a_time(self.db, self.settings.data_dir):
            return self._sync(progress, repair)

    def _sync(self, progress: Progress | None, repair: bool) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport()
        generation = get_meta(self.db, CHANGE_MARKS[0])
        if get_meta(self.db, "embedding_model") not in (None, self.embedder.name):
            self._forget_everything()  # other model, other vectors: start over
        reread_all = get_meta(self.db, "index_format") != self._format()
        if repair:
            report.repaired = self._repair()

        stored_docs = {r["path"]: r["file_hash"] for r in self.db["documents"].rows}
        files = self._scan()
        plans = []  # (document, all its chunks, chunks to embed, chunk ids to drop)
        for rel, (path, data, root, prefix) in files.items():
            if not reread_all and stored_docs.get(rel) == file_hash(data):
                report.unchanged += self.db["chunks"].count_where("path = ?", [rel])
                report.documents += 1
                continue
            try:
                document = read_document(path, root, prefix)
            except DocumentError as error:
                report.problems.append((rel, str(error)))
                log.warning("skipped %s: %s", rel, error)
                continue
            report.documents += 1
            stored = {
                r["id"]: r["content_hash"]
                for r in self.db.query("SELECT id, content_hash FROM chunks WHERE path = ?", [rel])
            }
            fresh = [(c, chunk_hash(c, self.embedder.name)) for c in document.chunks]
            changed = [(c, h) for c, h in fresh if stored.get(c.id) != h]
            gone = sorted(set(stored) - {c.id for c in document.chunks})
            report.added += sum(1 for c, _ in changed if c.id not in stored)
            report.updated += sum(1 for c, _ in changed if c.id in stored)
            report.updated_chunks += [c.id for c, _ in changed if c.id in stored]
            report.removed_chunks += gone
            report.unchanged += len(fresh) - len(changed)
            report.removed += len(gone)
            if changed or gone or stored_docs.get(rel) != document.file_hash:
                plans.append((document, fresh, changed, gone))
                if changed or gone:
                    report.changed_documents.append(rel)

        total = sum(len(changed) for _, _, changed, _ in plans)
        embedded = 0

        def embedding(count: int) -> None:
            nonlocal embedded
            embedded += count
            if progress:
                progress(embedded, total)

        if total:
            embedding(0)
        for round_ in rounds(plans, EMBED_ROUND):
            vectors = iter(
                self._embed([c.embedded_text() for _, _, changed, _ in round_ for c, _ in changed], embedding)
            )
            for document, fresh, changed, gone in round_:
                self._apply(document, fresh, changed, gone, [next(vectors) for _ in changed])

        for rel in sorted(set(stored_docs) - set(files)):
            gone = self._remove_document(rel)
            report.removed += len(gone)
            report.removed_chunks += gone
            report.removed_documents.append(rel)

        with transaction(self.db):
            set_meta(self.db, "index_format", self._format())
            set_meta(self.db, "embedding_model", self.embedder.name)
            # A sync that changed nothing changes no mark: every process would copy its vectors again.
            if get_meta(self.db, CHANGE_MARKS[0]) != generation:
                set_meta(self.db, "synced_at", now())
        report.seconds = time.perf_counter() - started
        return report

    def _embed(self, texts: list[str], embedding: Callable[[int], None]) -> list[list[float]]:
        """texts' vectors, in their order, embedded longest first a batch per call: each batch holds texts
        of about one length, and questions (which take the same lock) wait at most one batch."""
        vectors: list = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(order), EMBED_BATCH):
            batch = order[start : start + EMBED_BATCH]
            for i, vector in zip(batch, self.embedder.encode([texts[i] for i in batch]), strict=True):
                vectors[i] = vector
            embedding(len(batch))
        return vectors

    def _apply(self, document: Document, fresh, changed, gone: list[str], vectors: list[list[float]]) -> None:
        """Write one document: the vectors of its changed chunks (embedded by the caller), then its rows."""
        if changed:
            self.vectors.upsert(
                [c.id for c, _ in changed], vectors, [c.path for c, _ in changed], [h for _, h in changed]
            )
        self.vectors.delete(gone)
        # One transaction: the document's new hash must never commit without its chunks, or the next
        # sync would take the document as done and keep the old text (a crash or a full disk between).
        with transaction(self.db):
            self.db["documents"].upsert(
                {
                    "path": document.path,
                    "title": document.title,
                    "tags": json.dumps(document.tags),
                    "owner": document.owner,
                    "updated": document.updated,
                    "url": document.url,
                    "file_hash": document.file_hash,
                    "synced_at": now(),
                },
                pk="path",
            )
            index_changed(self.db)
            if gone:
                self.db.execute(f"DELETE FROM chunks WHERE id IN ({','.join('?' * len(gone))})", gone)
            self.db.execute("DELETE FROM sections WHERE path = ?", [document.path])
            self.db["sections"].insert_all(
                {
                    "id": s.id,
                    "path": s.path,
                    "anchor": s.anchor,
                    "ordinal": s.ordinal,
                    "title": s.title,
                    "heading": s.heading,
                    "text": s.quote_text,
                }
                for s in document.sections
            )
            self.db["chunks"].upsert_all(
                (
                    {
                        "id": c.id,
                        "path": c.path,
                        "ordinal": c.ordinal,
                        "title": c.title,
                        "heading": c.heading,
                        "anchor": c.anchor,
                        "text": c.text,
                        "content_hash": h,
                        "kind": c.kind,
                        "span_start": c.start if c.kind == TEXT else None,
                        "span_end": c.end if c.kind == TEXT else None,
                    }
                    for c, h in fresh
                ),
                pk="id",
            )

    def _remove_document(self, rel: str) -> list[str]:
        ids = [r["id"] for r in self.db.query("SELECT id FROM chunks WHERE path = ?", [rel])]
        self.vectors.delete(ids)
        with transaction(self.db):
            index_changed(self.db)
            self.db.execute("DELETE FROM chunks WHERE path = ?", [rel])
            self.db.execute("DELETE FROM sections WHERE path = ?", [rel])
            self.db.execute("DELETE FROM documents WHERE path = ?", [rel])
        return ids

    def _repair(self) -> int:
        """Make Chroma hold exactly the chunks SQLite lists (after a crash or a lost server).
        Returns how many chunks were re-embedded or dropped."""
        ledger = {r["id"]: r["content_hash"] for r in self.db.query("SELECT id, content_hash FROM chunks")}
        if not ledger and not self.db["documents"].count:
            return 0
        present = self.vectors.hashes()
        orphans = sorted(set(present) - set(ledger))
        # A vector made from other content than SQLite's is as good as missing: a sync that died between
        # Chroma and SQLite, and the file then put back as it was, leaves one.
        missing = sorted(i for i, h in ledger.items() if i not in present or present[i] not in (None, h))
        self.vectors.delete(orphans)
        if orphans or missing:
            with transaction(self.db):
                index_changed(self.db)
                if missing:
                    # Forget the missing chunks and their documents' hashes: the sync that follows
                    # reads those documents again and embeds the chunks as new.
                    marks = ",".join("?" * len(missing))
                    self.db.execute(
                        f"UPDATE documents SET file_hash = '' WHERE path IN "
                        f"(SELECT path FROM chunks WHERE id IN ({marks}))",
                        missing,
                    )
                    self.db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", missing)
        return len(orphans) + len(missing)

    def _forget_everything(self) -> None:
        self.vectors.reset()
        with transaction(self.db):
            index_changed(self.db)
            self.db.execute("DELETE FROM chunks")
            self.db.execute("DELETE FROM sections")
            self.db.execute("DELETE FROM documents")
