"""Fuzzing the file parsers: any bytes as a markdown file, any text as an eval file, any YAML as
policy.yaml. Each either parses or raises its own clear error type, never anything else."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.licenses import load_policy
from bot.search.documents import DocumentError, read_document
from bot.search.evaluate import EvalFileError, read_questions

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FRONT = st.sampled_from(
    [
        "",
        "---\n",
        "---\ntitle: x\n---\n",
        "---\ntitle: [\n---\n",
        "---\n- a\n---\n",
        "---\ntags: 3\nupdated: 2026-13-45\n---\n",
        "---\r\ntitle: t\r\n---\r\n",
    ]
)
BODY = st.text(max_size=2000) | st.sampled_from(["# T\n## A\n```\n# x\n```\ntext", "## \n\n", "#" * 7 + " deep\nx"])


@FUZZ
@given(front=FRONT, body=BODY, junk=st.binary(max_size=64))
def test_any_markdown_file_parses_or_says_why(tmp_path, front, body, junk):
    path = tmp_path / "doc.md"
    for data in ((front + body).encode("utf-8", "surrogatepass"), junk, front.encode() + junk):
        path.write_bytes(data)
        try:
            document = read_document(path, tmp_path)
        except DocumentError as error:
            assert str(error)
            continue
        assert document.chunks and all(c.text.strip() for c in document.chunks)
        assert len({c.id for c in document.chunks}) == len(document.chunks)


@FUZZ
@given(
    lines=st.lists(
        st.text(max_size=200)
        | st.sampled_from(
            [
                '{"question": "q", "expected": ["a.md"]}',
                '{"question": 3}',
                "[]",
                "{}",
                '{"question": "q", "expected": []}',
            ]
        ),
        max_size=8,
    )
)
def test_any_eval_file_parses_or_names_the_line(tmp_path, lines):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        questions = read_questions(path)
    except EvalFileError as error:
        assert str(path) in str(error)
        return
    assert questions and all(q.question is not None and q.expected for q in questions)


@FUZZ
@given(
    document=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=20,
    )
)
def test_any_policy_yaml_loads_or_says_what_is_wrong(tmp_path, document):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_policy(path)
    except ValueError as error:
        assert "policy.yaml" in str(error)
