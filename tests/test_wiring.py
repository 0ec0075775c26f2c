"""The composition root (bot/wiring.py): each part built once, the one policy handed to every part
that needs it, and nothing heavy built for a command that does not need it."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from bot.wiring import Core


@pytest.fixture
def core(tmp_path, small_kb_dir) -> Core:
    return Core(load_settings(OSPO_DATA_DIR=tmp_path / "data", OSPO_KNOWLEDGE_DIR=small_kb_dir))


def test_each_part_is_built_once_and_the_policy_is_handed_on(core):
    assert core.approvals is core.approvals and core.desk is core.desk and core.kb is core.kb
    assert core.desk.kb is core.kb
    assert core.desk.policy is core.policy and core.approvals.policy is core.policy
    assert core.approvals.db is core.desk.db is core.db  # one connection per thread, for both


def test_approvals_alone_build_no_knowledge_base(core):
    core.approvals.list()
    assert "kb" not in vars(core) and "desk" not in vars(core)


def test_a_broken_policy_file_is_a_configuration_error(core, tmp_path, monkeypatch):
    broken = tmp_path / "policy.yaml"
    broken.write_text("uses: [", encoding="utf-8")
    monkeypatch.setattr("bot.licenses.default_policy_path", lambda: broken)
    with pytest.raises(ConfigError, match=f"cannot read the license policy {broken}"):
        core.policy  # noqa: B018


def test_approvers_are_the_user_ids_and_the_members_of_their_groups(tmp_path, small_kb_dir):
    asked = []

    def members(group):
        asked.append(group)
        return {"S0OSPO": ["U0MEMBER"]}.get(group, [])

    settings = load_settings(OSPO_DATA_DIR=tmp_path, OSPO_KNOWLEDGE_DIR=small_kb_dir, OSPO_APPROVERS="U0LEAD,S0OSPO")
    core = Core(settings, group_members=members)
    assert core.approvers.resolve() == {"U0LEAD", "U0MEMBER"}
    assert "U0MEMBER" in core.approvers and "U0OTHER" not in core.approvers
    assert asked == ["S0OSPO"]  # cached: Slack is asked once for a while, not on every click


def test_request_links_are_read_from_the_configured_address(tmp_path, small_kb_dir):
    settings = load_settings(
        OSPO_DATA_DIR=tmp_path, OSPO_KNOWLEDGE_DIR=small_kb_dir, OSPO_REQUEST_URL="https://ospo.example.com/r/{ref}"
    )
    assert settings.request_link("https://ospo.example.com/r/OSPO-42") == 42
    assert settings.request_link("https://OSPO.example.com/r/ospo-7/#history") == 7
    for other in (
        "https://ospo.example.com/r/OSPO-0",
        "https://ospo.example.com/r/42",
        "https://elsewhere.com/r/OSPO-4",
    ):
        assert settings.request_link(other) is None
    assert (
        load_settings(OSPO_DATA_DIR=tmp_path, OSPO_KNOWLEDGE_DIR=small_kb_dir).request_link(
            "https://ospo.example.com/r/OSPO-42"
        )
        is None
    )  # unset: no request links
    with pytest.raises(ConfigError, match="OSPO_REQUEST_URL"):
        load_settings(OSPO_DATA_DIR=tmp_path, OSPO_KNOWLEDGE_DIR=small_kb_dir, OSPO_REQUEST_URL="ospo.example.com/r")
