"""Markdown -> documents -> chunks, and every kind of bad file reported by name."""

from __future__ import annotations

import pytest

from bot.search.documents import (
    DocumentError,
    chunk_document,
    knowledge_files,
    read_document,
    slugify,
)
from bot.search.passages import pieces
from tests.conftest import SMALL_KB, write_docs


def test_front_matter_and_chunks_by_heading(small_kb_dir):
    doc = read_document(small_kb_dir / "contributing/trivial.md", small_kb_dir)
    assert doc.path == "contributing/trivial.md"
    assert doc.title == "Trivial contributions"
    assert doc.tags == ["contributing"]
    assert doc.updated == "2026-10-01"
    assert doc.url == "https://handbook.example.com/trivial"
    assert [c.heading for c in doc.chunks] == ["", "What counts as trivial", "Features are not trivial"]
    assert [c.anchor for c in doc.chunks] == ["top", "what-counts-as-trivial", "features-are-not-trivial"]
    assert doc.chunks[1].text.startswith("A typo fix")
    assert doc.chunks[1].id == "contributing/trivial.md#what-counts-as-trivial~0"
    assert doc.chunks[1].embedded_text().startswith("Trivial contributions > What counts as trivial\n")


def test_title_falls_back_to_first_heading_then_file_name(tmp_path):
    write_docs(tmp_path, {"a/agpl.md": SMALL_KB["using/agpl.md"], "b/no-title.md": "just text here\n"})
    assert read_document(tmp_path / "a/agpl.md", tmp_path).title == "Network copyleft licenses"
    assert read_document(tmp_path / "b/no-title.md", tmp_path).title == "No title"


def test_heading_path_nests_and_resets(tmp_path):
    write_docs(
        tmp_path,
        {
            "d.md": """
        # Doc
        ## Outer
        outer text
        ### Inner
        inner text
        ## Next
        next text
        """
        },
    )
    chunks = read_document(tmp_path / "d.md", tmp_path).chunks
    assert [c.headings for c in chunks] == [("Outer",), ("Outer", "Inner"), ("Next",)]
    assert chunks[1].heading == "Outer > Inner"


def test_headings_inside_code_fences_are_text(tmp_path):
    write_docs(
        tmp_path,
        {
            "d.md": """
        ## Shell
        Run this:
        ```
        # not a heading
        git commit -s
        ```
        """
        },
    )
    chunks = read_document(tmp_path / "d.md", tmp_path).chunks
    assert len(chunks) == 1 and "# not a heading" in chunks[0].text


def test_repeated_headings_get_distinct_anchors(tmp_path):
    write_docs(tmp_path, {"d.md": "## Example\none\n\n## Example\ntwo\n"})
    chunks = read_document(tmp_path / "d.md", tmp_path).chunks
    assert [c.anchor for c in chunks] == ["example", "example-1"]
    assert len({c.id for c in chunks}) == 2


def test_long_sections_split_on_paragraph_boundaries():
    paragraphs = [" ".join(f"word{p}_{i}" for i in range(60)) for p in range(6)]
    text = "\n\n".join(paragraphs)
    spans = pieces(text, max_words=150)
    assert len(spans) == 3
    assert all(len(text[s.start : s.end].split()) <= 150 for s in spans)
    assert "\n\n".join(text[s.start : s.end] for s in spans) == text  # nothing lost, nothing reordered


def test_one_huge_paragraph_is_split_on_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    spans = pieces(text, max_words=150)
    assert len(spans) > 1
    assert all(text[s.start : s.end].endswith(".") and text[s.start].isupper() for s in spans)


def test_a_lead_in_stays_with_the_list_it_introduces():
    items = "\n".join(f"- Item {i} " + " ".join(["word"] * 20) + "." for i in range(8))
    text = "Intro paragraph. " + " ".join(["filler"] * 60) + "\n\nYou need approval for any of these:\n\n" + items
    spans = pieces(text, max_words=100)
    lead_in = next(s for s in spans if "any of these:" in text[s.start : s.end])
    assert text[lead_in.start : lead_in.end].rstrip().endswith("word.")  # never a piece ending on ":"
    assert all(not text[s.start : s.end].rstrip().endswith(":") for s in spans)


def test_long_section_pieces_keep_heading_and_distinct_ids(tmp_path):
    body = "\n\n".join(" ".join(["policy"] * 80) for _ in range(4))
    write_docs(tmp_path, {"d.md": f"## Long\n{body}\n"})
    chunks = read_document(tmp_path / "d.md", tmp_path).chunks
    assert len(chunks) == 4 and all(c.heading == "Long" for c in chunks)  # 80 + 80 > 100 words
    assert [c.id for c in chunks] == ["d.md#long~0", "d.md#long~1", "d.md#long~2", "d.md#long~3"]


def test_asked_as_phrasings_are_chunks_of_their_own_and_not_quoted(tmp_path):
    write_docs(
        tmp_path,
        {
            "d.md": """
        # Doc

        ## Signing a CLA

        <!-- asked as:
        - can my manager sign the cla
        - who signs a corporate  cla?
        -->

        Only the OSPO signs corporate CLAs.
        """
        },
    )
    doc = read_document(tmp_path / "d.md", tmp_path)
    assert doc.sections[0].text == "Only the OSPO signs corporate CLAs."
    assert doc.sections[0].asked_as == ("can my manager sign the cla", "who signs a corporate cla?")
    assert [(c.id, c.kind) for c in doc.chunks] == [
        ("d.md#signing-a-cla~0", "text"),
        ("d.md#signing-a-cla~q0", "asked"),
        ("d.md#signing-a-cla~q1", "asked"),
    ]
    assert doc.chunks[1].embedded_text() == "can my manager sign the cla"
    assert "asked as" not in doc.chunks[0].embedded_text()


def test_a_section_ending_on_a_lead_in_is_quoted_with_its_subsections(tmp_path):
    write_docs(tmp_path, {"d.md": "## After you submit\nOne of these happens:\n### No answer\nWait a week.\n"})
    sections = read_document(tmp_path / "d.md", tmp_path).sections
    assert sections[0].quote_text == "One of these happens:\n\n**No answer**\n\nWait a week."
    assert sections[1].quote_text == sections[1].text == "Wait a week."


def test_slugify_matches_github_style():
    assert slugify("When you need approval?") == "when-you-need-approval"
    assert slugify("NOTICE file for Apache-2.0 projects") == "notice-file-for-apache-20-projects"


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "empty file"),
        (b"---\ntitle: x\n---\n\n   \n", "empty file"),
        (b"---\ntitle: [unclosed\n---\ntext\n", "front matter is not valid YAML"),
        (b"---\nupdated: 2026-13-45\n---\ntext\n", "front matter is not valid YAML"),  # found by fuzzing
        (b"---\ntitle: x\nno closing line\n", "no closing '---'"),
        (b"---\n- a\n- b\n---\ntext\n", "must be a YAML mapping"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        (b"caf\xe9 latin-1 text", "not UTF-8"),
        (b"# Only\n## Headings\n", "no text to index"),
    ],
)
def test_bad_files_raise_a_clear_error(tmp_path, content, problem):
    path = tmp_path / "bad.md"
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=problem):
        read_document(path, tmp_path)


def test_unreadable_file_is_listed_and_reported(tmp_path):
    (tmp_path / "gone.md").symlink_to(tmp_path / "missing-target.md")
    assert [p.name for p in knowledge_files(tmp_path)] == ["gone.md"]
    with pytest.raises(DocumentError, match="cannot read file"):
        read_document(tmp_path / "gone.md", tmp_path)


def test_knowledge_files_are_sorted_markdown_and_skip_hidden(tmp_path):
    write_docs(tmp_path, {"b.md": "x\n", "a/c.md": "y\n", ".git/d.md": "z\n", "notes.txt": "n\n"})
    assert [p.relative_to(tmp_path).as_posix() for p in knowledge_files(tmp_path)] == ["a/c.md", "b.md"]


def test_front_matter_dates_and_tag_strings_are_normalised(tmp_path):
    write_docs(tmp_path, {"d.md": "---\ntitle: T\ntags: a, b\nupdated: 2026-01-02 10:00:00\n---\n# T\ntext\n"})
    doc = read_document(tmp_path / "d.md", tmp_path)
    assert doc.tags == ["a", "b"] and doc.updated == "2026-01-02"


def test_chunk_document_drops_sections_without_words(tmp_path):
    write_docs(tmp_path, {"d.md": "## Links\n![img](x.png)\n\n## Real\nwords here\n"})
    doc = read_document(tmp_path / "d.md", tmp_path)
    assert [c.heading for c in chunk_document(doc)] == ["Real"]
