"""kb sync: incremental by content hash, removals reach every index, bad files skipped,
and a crash between Chroma and SQLite repaired by the next sync."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.search import index as index_module
from bot.search import nearest
from bot.search.index import Index
from bot.store import set_meta
from tests.conftest import SMALL_KB, write_docs


def fts_paths(kb) -> set[str]:
    return {
        r[0] for r in kb.db.execute("SELECT chunks.path FROM chunks_fts JOIN chunks ON chunks.rowid = chunks_fts.rowid")
    }


def vector_paths(kb) -> set[str]:
    got = kb.index.vectors.collection.get(include=["metadatas"])
    return {m["path"] for m in got["metadatas"]}


def test_first_sync_indexes_everything(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    report = kb.sync()
    assert (report.added, report.updated, report.removed, report.unchanged) == (5, 0, 0, 0)
    assert report.documents == 3 and report.problems == []
    assert kb.index.vectors.count() == 5 == kb.db["chunks"].count
    assert fts_paths(kb) == vector_paths(kb) == set(SMALL_KB)


def test_resync_of_unchanged_folder_embeds_nothing(make_kb, small_kb_dir, tmp_path):
    make_kb(small_kb_dir).sync()
    fresh = make_kb(small_kb_dir)  # a new process would start like this
    assert not fresh.index.is_stale()
    set_meta(fresh.index.db, "synced_at", "2026-01-01T00:00:00+00:00")  # the last sync, a while ago
    marks = fresh.index.lookups().marks
    report = fresh.sync()
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert fresh.index.embedder.encoded == 0
    # nothing changed, so no change mark either: no process drops its lookups or copies its vectors again
    assert fresh.index.lookups().marks == marks


def test_editing_one_section_re_embeds_only_that_section(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    kb.sync()
    path = small_kb_dir / "contributing/trivial.md"
    path.write_text(path.read_text().replace("at most 100 changed lines", "at most 50 changed lines"))
    assert kb.index.is_stale()
    before = kb.index.embedder.encoded
    report = kb.sync()
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 4)
    assert kb.index.embedder.encoded - before == 1
    assert report.changed_documents == ["contributing/trivial.md"]
    text = kb.db.execute("SELECT text FROM chunks WHERE anchor = 'what-counts-as-trivial'").fetchone()[0]
    assert "at most 50 changed lines" in text


def test_new_and_removed_sections(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    kb.sync()
    path = small_kb_dir / "contributing/trivial.md"
    text = path.read_text()
    text = text[: text.index("## Features are not trivial")] + "## Security fixes\nAsk security first.\n"
    path.write_text(text)
    report = kb.sync()
    assert (report.added, report.updated, report.removed) == (1, 0, 1)
    ids = {r["id"] for r in kb.db["chunks"].rows}
    assert "contributing/trivial.md#security-fixes~0" in ids
    assert "contributing/trivial.md#features-are-not-trivial~0" not in ids
    assert kb.index.vectors.ids() == ids


def test_removed_document_disappears_from_every_index(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    kb.sync()
    (small_kb_dir / "cla/dco.md").unlink()
    report = kb.sync()
    assert report.removed == 1 and report.removed_documents == ["cla/dco.md"]
    assert "cla/dco.md" not in fts_paths(kb) | vector_paths(kb)
    assert kb.db["documents"].count_where("path = ?", ["cla/dco.md"]) == 0
    assert not kb.db.execute("SELECT * FROM chunks_fts WHERE chunks_fts MATCH 'Signed'").fetchall()


def test_bad_files_are_reported_by_name_and_nothing_else_is_lost(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    kb.sync()
    write_docs(small_kb_dir, {"broken.md": "---\ntitle: [oops\n---\ntext\n"})
    (small_kb_dir / "empty.md").write_text("")
    (small_kb_dir / "junk.md").write_bytes(b"\x00\x01\x02binary")
    (small_kb_dir / "latin.md").write_bytes(b"caf\xe9")
    (small_kb_dir / "dangling.md").symlink_to(small_kb_dir / "nowhere.md")
    # A file that was fine and now is broken keeps its last good version in the index.
    (small_kb_dir / "cla/dco.md").write_text("---\ntitle: x\n")
    report = kb.sync()
    problems = dict(report.problems)
    assert set(problems) == {"broken.md", "empty.md", "junk.md", "latin.md", "dangling.md", "cla/dco.md"}
    assert "not valid YAML" in problems["broken.md"] and "empty" in problems["empty.md"]
    assert "binary" in problems["junk.md"] and "cannot read" in problems["dangling.md"]
    assert report.removed == 0
    assert fts_paths(kb) == vector_paths(kb) == set(SMALL_KB)


def test_a_sync_embeds_many_documents_together_longest_first_and_each_chunk_gets_the_vector_it_gets_alone(
    make_kb, small_kb_dir, tmp_path, monkeypatch
):
    """The model pads each batch to its longest text, so a sync embeds the chunks of several documents
    together (rounds of EMBED_ROUND), longest first, a batch per call (a question waits at most one
    batch for the model). Grouping them so must not change a single vector, nor which chunk gets which."""

    def recording(kb) -> list[list[str]]:
        calls: list[list[str]] = []
        encode = kb.index.embedder.encode
        monkeypatch.setattr(kb.index.embedder, "encode", lambda texts: calls.append(texts) or encode(texts))
        return calls

    def vectors(kb) -> dict:
        got = kb.index.vectors.collection.get(include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"], strict=True))

    def alike(one: dict, other: dict) -> None:
        assert set(one) == set(other)
        for chunk_id, vector in one.items():
            assert sum(a * b for a, b in zip(vector, other[chunk_id], strict=True)) > 0.99999, chunk_id

    together = make_kb(small_kb_dir)
    calls, progress = recording(together), []
    together.index.sync(progress=lambda done, total: progress.append((done, total)))
    assert [len(texts) for texts in calls] == [5]  # three documents, one call
    assert progress == [(0, 5), (5, 5)]

    monkeypatch.setattr(index_module, "EMBED_BATCH", 2)
    batched = make_kb(small_kb_dir, data_dir=tmp_path / "batched")
    batched_calls = recording(batched)
    batched.sync()
    lengths = [len(text) for texts in batched_calls for text in texts]
    assert [len(texts) for texts in batched_calls] == [2, 2, 1] and lengths == sorted(lengths, reverse=True)

    monkeypatch.setattr(index_module, "EMBED_ROUND", 1)  # a round per document, as before
    apart = make_kb(small_kb_dir, data_dir=tmp_path / "apart")
    apart_calls = recording(apart)
    apart.sync()
    assert sum(len(texts) for texts in apart_calls) == 5 and len(apart_calls) >= 3
    alike(vectors(together), vectors(apart))
    alike(vectors(batched), vectors(apart))

    # Edited: two documents' text, and a third file whose chunks stay as they were (nothing to embed).
    for path, old, new in [
        ("contributing/trivial.md", "at most 100 changed lines", "at most 50 changed lines"),
        ("using/agpl.md", "is not allowed in our", "is never allowed in our"),
    ]:
        (small_kb_dir / path).write_text((small_kb_dir / path).read_text().replace(old, new))
    (small_kb_dir / "cla/dco.md").write_text((small_kb_dir / "cla/dco.md").read_text() + "\n")
    monkeypatch.setattr(index_module, "EMBED_ROUND", 1024)
    report = batched.sync()
    assert report.updated == 2 and report.unchanged == 3
    fresh = make_kb(small_kb_dir, data_dir=tmp_path / "fresh")
    fresh.sync()
    alike(vectors(batched), vectors(fresh))


def test_rounds_hold_at_least_the_round_size_and_keep_documents_whole():
    plans = [(name, [], [object()] * changed, []) for name, changed in [("a", 3), ("b", 0), ("c", 5), ("d", 1)]]
    grouped = [[plan[0] for plan in group] for group in index_module.rounds(plans, 4)]
    assert grouped == [["a", "b", "c"], ["d"]]
    assert [[p[0] for p in g] for g in index_module.rounds(plans, 100)] == [["a", "b", "c", "d"]]
    assert list(index_module.rounds([], 4)) == []


def test_repair_after_crash_between_chroma_and_sqlite(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    kb.sync()
    # As if a sync died after deleting vectors but before SQLite committed,
    # and another left an orphan vector behind.
    kb.index.vectors.delete(["cla/dco.md#how-to-sign-off~0"])
    kb.index.vectors.upsert(["ghost.md#x~0"], [[0.1] * 384], ["ghost.md"])
    report = kb.sync()
    assert report.repaired == 2
    assert kb.index.vectors.ids() == {r["id"] for r in kb.db["chunks"].rows}
    assert kb.search("how do I sign off my commits").documents[0].path == "cla/dco.md"


def test_sync_survives_a_new_index_object_on_same_data(make_kb, small_kb_dir, tmp_path):
    kb = make_kb(small_kb_dir)
    kb.sync()
    again = Index(kb.settings)
    assert not again.is_stale()
    assert again.vectors.count() == 5


def test_dense_search_reads_a_copy_of_the_vectors_until_any_process_changes_them(make_kb, small_kb_dir):
    """Questions are searched in a copy of the vectors held in memory (bot/search/nearest.py): the
    neighbours Chroma gives, in its order, with no Chroma query per question; a change made by
    another process sharing the data (a `kb sync`, another replica) is seen by the next question."""
    serving = make_kb(small_kb_dir)
    serving.sync()
    vectors = serving.index.vectors
    for question in ["how do I sign off my commits", "can I fix a typo without approval", "CLA"]:
        vector = serving.index.embedder.encode_question(question)
        from_chroma = vectors.query(vector, 4)
        from_memory = vectors.query(vector, 4, serving.index.lookups().marks)
        assert [cid for cid, _ in from_memory] == [cid for cid, _ in from_chroma]
        assert [s for _, s in from_memory] == pytest.approx([s for _, s in from_chroma], abs=1e-5)

    queried = []
    chroma_query = vectors.collection.query
    vectors.collection.query = lambda *args, **kwargs: queried.append(args) or chroma_query(*args, **kwargs)
    assert serving.search("how do I sign off my commits").documents[0].path == "cla/dco.md"
    assert queried == []

    gitsign = "# Gitsign\n\n## Keyless signing\n\nSign commits keylessly with Sigstore.\n"
    write_docs(small_kb_dir, {"tools/gitsign.md": gitsign})
    make_kb(small_kb_dir).sync()  # another process
    vector = serving.index.embedder.encode_question("keyless commit signing with sigstore")
    nearest = vectors.query(vector, 1, serving.index.lookups().marks)
    assert nearest[0][0].startswith("tools/gitsign.md#")


def test_the_copy_is_taken_once_per_version_and_chroma_answers_when_it_cannot_be(make_kb, small_kb_dir, monkeypatch):
    kb = make_kb(small_kb_dir)
    kb.sync()
    vectors = kb.index.vectors
    vector = kb.index.embedder.encode_question("how do I sign off my commits")
    taken = []
    chroma_get = vectors.collection.get
    vectors.collection.get = lambda *args, **kwargs: taken.append(kwargs) or chroma_get(*args, **kwargs)
    first = vectors.query(vector, 3, "v1")
    assert vectors.query(vector, 3, "v1") == first and len(taken) == 1
    vectors.query(vector, 3, "v2")
    assert len(taken) == 2
    vectors.query(vector, 3, "v1")  # a question that read its version before the change: the newer copy
    assert len(taken) == 2

    def cannot(*args, **kwargs):
        raise RuntimeError("Error finding id")  # what embedded Chroma says after another process wrote

    vectors.collection.get = cannot
    monkeypatch.setattr(nearest, "RETRY_SECONDS", 0.0)  # try copying again at the next question
    assert vectors.query(vector, 3, "v3") == vectors.query(vector, 3)  # Chroma answers
    vectors.collection.get = lambda *args, **kwargs: taken.append(kwargs) or chroma_get(*args, **kwargs)
    assert [cid for cid, _ in vectors.query(vector, 3, "v3")] == [cid for cid, _ in first]
    assert len(taken) == 3


def test_dense_search_goes_on_after_a_kb_sync_in_another_process(make_kb, small_kb_dir):
    """Embedded Chroma cannot give a running bot its vectors again once another process (a `kb sync`
    on the command line) wrote them ("Error finding id"): the bot then asks Chroma itself, as before
    the copy in memory, rather than falling back to keyword search."""
    serving = make_kb(small_kb_dir)
    serving.sync()
    assert not serving.search("how do I sign off my commits").degraded
    gitsign = "# Gitsign\n\n## Keyless signing\n\nSign commits keylessly with Sigstore.\n"
    write_docs(small_kb_dir, {"tools/gitsign.md": gitsign})
    settings = serving.settings
    env = {
        **os.environ,
        "OSPO_KNOWLEDGE_DIR": str(small_kb_dir),
        "OSPO_DATA_DIR": str(settings.data_dir),
        "OSPO_EMBEDDING_MODEL": settings.embedding_model,
    }
    ospo_bot = Path(sys.executable).parent / "ospo-bot"
    synced = subprocess.run([str(ospo_bot), "kb", "sync"], env=env, capture_output=True, text=True, timeout=300)
    assert synced.returncode == 0, synced.stderr
    after = serving.search("how do I sign off my commits")
    assert not after.degraded and after.documents[0].path == "cla/dco.md"


def test_questions_reuse_chunk_lookups_until_any_process_changes_the_index(make_kb, small_kb_dir):
    """What questions look up about chunks (rows, words the keyword index knows) is remembered
    (Index.lookups) until the index changes, here or in another process sharing the database."""
    serving = make_kb(small_kb_dir)
    serving.sync()
    question = "how do I sign off my commits with gitsign"
    first = serving.search(question)
    assert first.documents[0].title == "Signing off commits with the DCO"
    assert first.words["unknown"] > 0  # "gitsign" is nowhere in the knowledge base

    statements = []
    serving.db.conn.set_trace_callback(statements.append)
    assert serving.search(question).documents[0].title == first.documents[0].title
    serving.db.conn.set_trace_callback(None)
    looked_up = [s for s in statements if "FROM chunks WHERE id IN" in s or s.startswith("SELECT 1 FROM chunks_fts")]
    assert statements and not looked_up

    path = small_kb_dir / "cla/dco.md"  # same sections, so the same chunk ids: only their rows change
    path.write_text(path.read_text().replace("title: Signing off commits with the DCO", "title: Sign-off and gitsign"))
    make_kb(small_kb_dir).sync()  # another process: a `kb sync`, or another replica
    after = serving.search(question)
    assert after.documents[0].title == "Sign-off and gitsign"
    assert after.words["unknown"] == 0
