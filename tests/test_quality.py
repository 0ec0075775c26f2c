"""Answer quality, held as floors a regression would break. The question sets
(tests/data/questions/README.md) come in a tuning half, a held-out half nobody tunes on, and a
blind set written by someone who never read the handbook; README gives the figures of each."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.search.calibrate import calibration_report
from bot.search.evaluate import evaluate, read_questions
from bot.search.knowledge_base import KnowledgeBase
from tests.conftest import DATA, PUBLIC_CORPUS

SETS = DATA / "questions"


def ranked(kb):
    return lambda question: kb.search(question, k=10).documents


def questions(name: str):
    return read_questions(SETS / f"{name}.jsonl", need_expected="offtopic" not in name)


def test_every_expected_document_exists(handbook_kb):
    known = {r["path"] for r in handbook_kb.db.query("SELECT path FROM documents")}
    for name in (
        "handbook-tune",
        "handbook-tune-blind",
        "handbook-heldout",
        "handbook-blind",
        "handbook-fresh-heldout",
        "handbook-blind2",
    ):
        assert {p for q in questions(name) for p in q.expected} <= known, f"{name} expects a missing document"


@pytest.mark.parametrize(
    "name, hit_at_1, hit_at_3",
    [
        ("handbook-heldout", 0.90, 0.95),  # measured 0.963 / 0.991
        ("handbook-blind", 0.70, 0.90),  # measured 0.742 / 0.935
        ("handbook-fresh-heldout", 0.55, 0.85),  # measured 0.621 / 0.931: written after everything was tuned
        ("handbook-blind2", 0.75, 0.90),  # measured 0.807 / 0.936: written in session 16, never tuned on
    ],
)
def test_handbook_retrieval_floors(handbook_kb, name, hit_at_1, hit_at_3):
    report = evaluate(questions(name), ranked(handbook_kb))
    print(f"{name}: hit@1 {report.hit_at_1:.3f} hit@3 {report.hit_at_3:.3f} MRR {report.mrr:.3f}")
    assert report.hit_at_1 >= hit_at_1
    assert report.hit_at_3 >= hit_at_3


def test_off_topic_questions_are_never_confident(handbook_kb):
    for name in (
        "handbook-offtopic-tune",
        "handbook-offtopic-heldout",
        "handbook-offtopic-fresh-heldout",
        "handbook-offtopic-blind2",
    ):
        confident = [q.question for q in questions(name) if handbook_kb.ask(q.question, record=False).confident]
        assert confident == [], name


def test_confident_answers_are_right_and_most_answers_are_confident(handbook_kb):
    """Right means the quoted section is one that answers the question (the sets label them). Held out:
    at the default threshold 90% of confident answers are right and 72% of questions get one; blind-written
    questions the handbook does not answer rarely pass (3 of 65; 7 before the model was fitted to sections)."""
    report = calibration_report(handbook_kb, questions("handbook-heldout"), questions("handbook-offtopic-heldout"))
    assert report["confident_precision"] >= 0.87 and report["answerable_confident"] >= 0.68
    assert report["offtopic_confident_count"] == 0
    blind = calibration_report(handbook_kb, questions("handbook-blind"), questions("handbook-offtopic-blind"))
    assert blind["offtopic_confident"] <= 0.05 and blind["confident_precision"] >= 0.85


@pytest.mark.parametrize(
    "name, floor",
    [("handbook-heldout", 0.80), ("handbook-blind", 0.60), ("handbook-fresh-heldout", 0.45), ("handbook-blind2", 0.65)],
)
def test_the_quoted_section_answers(handbook_kb, name, floor):
    """Whether the section quoted from the top document is one that answers (measured 0.844, 0.626,
    0.534 and 0.716; 0.798 and 0.610 when the section ranked first by rank fusion was quoted)."""
    report = evaluate(questions(name), ranked(handbook_kb))
    assert report.sectioned == report.questions
    assert report.section_at_1 >= floor


@pytest.mark.skipif(not PUBLIC_CORPUS.is_dir(), reason="../shared/corpora/ospo-public is not beside the checkout")
def test_public_corpus_hybrid_beats_each_half(tmp_path_factory, model_name):
    settings = load_settings(
        OSPO_KNOWLEDGE_DIR=PUBLIC_CORPUS,
        OSPO_EMBEDDING_MODEL=model_name,
        OSPO_DATA_DIR=tmp_path_factory.mktemp("public"),
    )
    kb = KnowledgeBase(settings)
    assert not kb.sync().problems
    held_out = questions("public-heldout")
    results = {}
    for mode in ("keyword", "dense", "hybrid"):
        kb.retriever.mode = mode
        results[mode] = evaluate(held_out, ranked(kb))
    print({m: round(r.hit_at_3, 3) for m, r in results.items()})
    assert results["hybrid"].hit_at_3 >= 0.88  # measured 0.893-0.907 (one question moves it)
    assert results["hybrid"].hit_at_3 > max(results["dense"].hit_at_3, results["keyword"].hit_at_3)
    assert results["hybrid"].mrr > max(results["dense"].mrr, results["keyword"].mrr)


@pytest.fixture(scope="module")
def handbook_on_postgres(handbook_kb, postgres_server):
    """The synced handbook copied into PostgreSQL (`db migrate-to-postgres`'s copy: no re-embedding;
    keyword search needs no vectors), as a keyword-only knowledge base."""
    from bot.storage.migrate import copy_to_postgres

    url = postgres_server.new_database()
    assert copy_to_postgres(handbook_kb.settings.db_path, handbook_kb.settings.learned_dir, url).ok
    handbook = handbook_kb.settings
    settings = load_settings(
        OSPO_KNOWLEDGE_DIR=handbook.knowledge_dir,
        OSPO_DATA_DIR=handbook.data_dir,
        OSPO_EMBEDDING_MODEL=handbook.embedding_model,
        OSPO_CONFIDENCE_THRESHOLD=handbook.confidence_threshold,
        OSPO_DATABASE_URL=url,
    )
    yield KnowledgeBase(settings, mode="keyword")
    postgres_server.drop_database(url)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_degraded_mode_off_topic_questions_are_never_confident(handbook_kb, backend, request):
    """Chroma unreachable: answers come from keyword search alone and are confident only at
    OSPO_KEYWORD_CONFIDENCE_THRESHOLD, calibrated (`kb eval --mode keyword --offtopic`) on the
    tuning questions so that none of their off-topic ones passes; on each back end."""
    from tests.conftest import free_port

    settings = handbook_kb.settings if backend == "sqlite" else request.getfixturevalue("handbook_on_postgres").settings
    unreachable = {"chroma_host": "127.0.0.1", "chroma_port": free_port()}
    kb = KnowledgeBase(settings.model_copy(update=unreachable))
    offtopic = [kb.ask(q.question, record=False) for q in questions("handbook-offtopic-heldout")]
    assert all(a.degraded for a in offtopic)
    assert [a.question for a in offtopic if a.confident] == []

    answerable = questions("handbook-heldout")
    answers = [kb.ask(q.question, record=False) for q in answerable]
    confident = [(a, q) for a, q in zip(answers, answerable, strict=True) if a.confident]
    assert all(a.degraded for a in answers)
    assert len(confident) / len(answers) >= 0.15
    assert sum(a.sources[0].path in q.expected for a, q in confident) / len(confident) >= 0.90


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_keyword_threshold_default_is_the_calibrated_one(handbook_kb, backend, request):
    """OSPO_KEYWORD_CONFIDENCE_THRESHOLD's default (one per back end: each scores keywords its own way) is
    what `kb eval --mode keyword --offtopic` suggests on the tuning questions: recalibrate (and update
    README) when search or the handbook changes."""
    if backend == "sqlite":
        keyword = KnowledgeBase(handbook_kb.settings, index=handbook_kb.index, mode="keyword")
    else:
        keyword = request.getfixturevalue("handbook_on_postgres")
    answerable = questions("handbook-tune") + questions("handbook-tune-blind")
    offtopic = questions("handbook-offtopic-tune") + questions("handbook-offtopic-tune-blind")
    report = calibration_report(keyword, answerable, offtopic)
    assert report["setting"] == "OSPO_KEYWORD_CONFIDENCE_THRESHOLD"
    assert report["suggested"] == keyword.settings.keyword_confidence_threshold, report
    # Confident answers that quote a section that answers: measured 0.870 (SQLite), 0.727 (PostgreSQL).
    assert report["offtopic_confident_count"] == 0
    assert report["confident_precision"] >= (0.85 if backend == "sqlite" else 0.70)
