"""Learning from use: a question whose answer got 👍 becomes "asked as" evidence for the section
that answered it (answers the OSPO team saves carry their question in their own "asked as" block).

Guards, so that a few votes cannot hijack a section:
- Learned phrasings only re-rank: a section gains from them only when its own text or its
  written phrasings already brought it among the candidates, and they never count towards
  confidence (bot/search/confidence.py reads the section's own similarities only).
- One phrasing per question, at most MAX_PER_SECTION per section (the newest kept), and a 👎 on
  any answer from that section to that question takes it back.
- `kb eval` measures the knowledge base alone unless asked `--with-learned`.

Phrasings live in the database (`learned_phrasings`) and in a Chroma collection of their own, so a
`kb sync` of the knowledge folder never touches them.
"""

from __future__ import annotations

import uuid

from bot.store import now, set_meta, transaction

# A new token in `meta` with every change of the phrasings: each process searches a copy of their
# vectors until it changes (bot/search/nearest.py).
VERSION = "learned_generation"

MAX_PER_SECTION = 20


class Learning:
    def __init__(self, index):
        self.index = index
        self._vectors = None

    @property
    def db(self):
        return self.index.db

    @property
    def vectors(self):
        if self._vectors is None:
            from bot.search.index import VectorStore

            settings = self.index.settings
            self._vectors = VectorStore(settings, collection=f"{settings.chroma_collection}_learned")
        return self._vectors

    def count(self) -> int:
        return self.db["learned_phrasings"].count

    def add(self, section_id: str, phrasing: str, *, question_id: int | None = None, user: str | None = None) -> bool:
        """Remember that `phrasing` was answered by `section_id`; False if it was already known."""
        phrasing = " ".join(phrasing.split())
        if not phrasing or self._known(section_id, phrasing):
            return False
        vector = self.index.embedder.encode_question(phrasing)
        with transaction(self.db):
            # Taught while this was embedded (two 👍 at once)? Under the write lock, the answer is final.
            if self._known(section_id, phrasing):
                return False
            row_id = (
                self.db["learned_phrasings"]
                .insert(
                    {
                        "section_id": section_id,
                        "phrasing": phrasing,
                        "question_id": question_id,
                        "user": user,
                        "at": now(),
                    }
                )
                .last_pk
            )
            self.vectors.upsert([f"learned-{row_id}"], [vector], [section_id.split("#", 1)[0]])
            self._changed()
        self._keep_newest(section_id)
        return True

    def _known(self, section_id: str, phrasing: str) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM learned_phrasings WHERE section_id = ? AND phrasing = ?", [section_id, phrasing]
            ).fetchone()
        )

    def forget(self, *, question_id: int) -> int:
        """Take back what a question taught (its answer got 👎). Returns how many phrasings went."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM learned_phrasings WHERE question_id = ?", [question_id])]
        self._drop(ids)
        return len(ids)

    def _keep_newest(self, section_id: str) -> None:
        rows = self.db.execute(
            "SELECT id FROM learned_phrasings WHERE section_id = ? ORDER BY id DESC", [section_id]
        ).fetchall()
        self._drop([r[0] for r in rows[MAX_PER_SECTION:]])

    def _drop(self, ids: list[int]) -> None:
        if not ids:
            return
        self.vectors.delete([f"learned-{i}" for i in ids])
        with transaction(self.db):
            self.db.execute(f"DELETE FROM learned_phrasings WHERE id IN ({','.join('?' * len(ids))})", ids)
            self._changed()

    def _changed(self) -> None:
        """Call inside the transaction that changes phrasings, after their vectors changed."""
        set_meta(self.db, VERSION, uuid.uuid4().hex)

    def query(self, vector: list[float], n: int = 20) -> dict[str, float]:
        """The sections whose learned phrasings are nearest to the question: section id -> cosine."""
        # One plain query, as this runs for every question: anything learned, and the version (None,
        # from a version of the bot that wrote none: ask Chroma).
        learned, version = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM learned_phrasings), (SELECT value FROM meta WHERE key = ?)", [VERSION]
        ).fetchone()
        if not learned:
            return {}
        hits = self.vectors.query(vector, n, version)
        ids = [int(cid.split("-", 1)[1]) for cid, _ in hits]
        if not ids:
            return {}
        section_of = dict(
            self.db.execute(
                f"SELECT id, section_id FROM learned_phrasings WHERE id IN ({','.join('?' * len(ids))})", ids
            ).fetchall()
        )
        best: dict[str, float] = {}
        for (_, similarity), row_id in zip(hits, ids, strict=True):
            section = section_of.get(row_id)
            if section:
                best[section] = max(best.get(section, -1.0), similarity)
        return best
