"""The knowledge base as the rest of the bot sees it: sync, search, ask, record."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.search.answer import MAX_QUESTION_CHARS, Answer, build_answer
from bot.search.index import Index, Progress, SyncReport
from bot.search.retrieve import Retriever, SearchResult
from bot.store import now

log = logging.getLogger(__name__)


class KnowledgeBase:
    def __init__(self, settings: Settings, index: Index | None = None, mode: str = "hybrid"):
        self.settings = settings
        self.index = index or Index(settings)
        self.retriever = Retriever(self.index, mode=mode)

    @property
    def db(self):
        return self.index.db  # one connection per thread

    def sync(self, progress: Progress | None = None) -> SyncReport:
        return self.index.sync(progress)

    def ensure_fresh(self, progress: Progress | None = None) -> SyncReport | None:
        """Sync only when the folder changed since the last sync (a cheap hash check)."""
        if self.index.is_stale():
            return self.index.sync(progress)
        return None

    def warm_up(self) -> None:
        """Load the model and open the vector store now rather than on the first question."""
        self.index.embedder.load()
        self.index.vectors.count()

    def health(self) -> dict:
        """Counts, and whether dense search is reachable (without it answers come from keyword
        search only: "degraded"). Cheap enough for a health check."""
        try:
            vectors, degraded = self.index.vectors.count(), False
        except Exception as error:  # chromadb raises many kinds; all mean "not reachable now"
            log.warning("vector store unavailable (%s): answering from keyword search", error)
            vectors, degraded = None, True
        return {
            "documents": self.db["documents"].count,
            "chunks": self.db["chunks"].count,
            "vectors": vectors,
            "degraded": degraded,
        }

    def search(self, question: str, k: int = 5) -> SearchResult:
        return self.retriever.search(clean_question(question), k=k)

    def ask(
        self,
        question: str,
        *,
        user: str | None = None,
        channel: str | None = None,
        source: str = "cli",
        record: bool = True,
    ) -> Answer:
        question = clean_question(question)
        result = self.retriever.search(question, k=1 + 2)
        documents = (
            {
                row["path"]: row
                for row in self.db.query(
                    f"SELECT path, url, updated FROM documents WHERE path IN ({','.join('?' * len(result.documents))})",
                    [d.path for d in result.documents],
                )
            }
            if result.documents
            else {}
        )
        answer = build_answer(result, self.settings.confidence_threshold, documents)
        if record:
            self.record(answer, user=user, channel=channel, source=source)
        return answer

    def record(self, answer: Answer, *, user: str | None, channel: str | None, source: str) -> int:
        top = answer.sources[0] if answer.sources else None
        with self.db.conn:
            return (
                self.db["questions"]
                .insert(
                    {
                        "asked_at": now(),
                        "user": user,
                        "channel": channel,
                        "question": answer.question,
                        "confident": int(answer.confident),
                        "top_score": top.score if top else None,
                        "top_path": top.path if top else None,
                        "source": source,
                    }
                )
                .last_pk
            )


def clean_question(question: str) -> str:
    question = " ".join(question.split())
    if not question:
        raise ValueError("the question is empty: ask something, e.g. 'do I need approval to fix a typo?'")
    return question[:MAX_QUESTION_CHARS]
