"""Tests for bot/approvals.py: real SQLite files and PostgreSQL databases (each test on both), the
real policy in knowledge/policy.yaml."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.approvals import (
    BOT,
    STATES,
    AlreadyDecided,
    Approvals,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    NotFound,
    normalise_url,
    parse_ref,
)
from bot.licenses import default_policy_path, load_policy
from bot.store import ThreadLocalDB, open_db
from tests.approval_data import EXCEPTION, RELEASE, TRIVIAL, Clock

POLICY = load_policy(default_policy_path())
APPROVERS = frozenset({"A", "AR"})  # AR is an approver who also files requests

FEATURE = TRIVIAL | {"change_kind": "feature", "description": "Add a --json flag."}
VALID = {
    "contribute": TRIVIAL,
    "release": RELEASE,
    "cla": {"repository_url": "https://gitlab.com/acme/tool", "cla": "Acme CLA", "description": "Fix docs."},
    "personal": {"description": "A chess engine I write on weekends."},
    "exception": EXCEPTION,
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def approvals(database, clock) -> Approvals:
    return Approvals(ThreadLocalDB(database).get, POLICY, clock=clock)


def pending(approvals: Approvals, requester: str = "R", **fields):
    request = approvals.submit(requester, "contribute", FEATURE | fields)
    assert request.state == "pending"
    return request


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("type", VALID)
def test_valid_requests_have_no_errors(approvals, type):
    assert approvals.validate(type, VALID[type]) == {}


@pytest.mark.parametrize("type", VALID)
def test_every_required_field_is_reported_when_missing(approvals, type):
    errors = approvals.validate(type, {})
    required = set(VALID[type])  # VALID holds exactly the required fields...
    if type == "exception":  # ...but an exception needs its components or a repository: the form asks for components
        required = required - {"repository_url"} | {"components"}
    assert set(errors) == required
    assert all(isinstance(message, str) and message.endswith(".") for message in errors.values())


@pytest.mark.parametrize(
    "type, fields, field",
    [
        ("contribute", TRIVIAL | {"security_fix": "maybe"}, "security_fix"),
        ("contribute", TRIVIAL | {"change_kind": "refactor"}, "change_kind"),
        ("contribute", TRIVIAL | {"changed_lines": "lots"}, "changed_lines"),
        ("contribute", TRIVIAL | {"changed_lines": -3}, "changed_lines"),
        ("contribute", TRIVIAL | {"repository_url": "not a url"}, "repository_url"),
        ("contribute", TRIVIAL | {"repository_url": "https://github.com"}, "repository_url"),
        ("contribute", TRIVIAL | {"proposed_name": "x"}, "proposed_name"),  # not a contribute field
        ("contribute", TRIVIAL | {"description": "x" * 3001}, "description"),
        ("release", VALID["release"] | {"proposed_license": "frobnicate"}, "proposed_license"),
        ("release", VALID["release"] | {"telemetry": "perhaps"}, "telemetry"),
        ("cla", VALID["cla"] | {"cla": "DCO"}, "cla"),
        ("cla", VALID["cla"] | {"cla": "none"}, "cla"),
        ("exception", VALID["exception"] | {"use": "sell it"}, "use"),
    ],
)
def test_bad_values_get_a_field_error(approvals, type, fields, field):
    errors = approvals.validate(type, fields)
    assert list(errors) == [field]
    with pytest.raises(InvalidRequest) as exc:
        approvals.submit("R", type, fields)
    assert exc.value.errors == errors and isinstance(exc.value, ValueError)


def test_unknown_type_and_lenient_values(approvals):
    assert set(approvals.validate("holiday", {})) == {"type"}
    fields = TRIVIAL | {"security_fix": "no", "changed_lines": "1,020", "change_kind": "Docs", "proposed_name": ""}
    assert approvals.validate("contribute", fields) == {}
    assert approvals.submit("R", "contribute", fields).fields["changed_lines"] == 1020


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    type=st.sampled_from([*VALID, "other"]),
    fields=st.dictionaries(
        st.sampled_from([*TRIVIAL, *VALID["release"], "use", "changed_lines", "zzz"]),
        st.one_of(st.none(), st.text(max_size=30), st.booleans(), st.integers(), st.floats()),
    ),
)
def test_validate_never_raises(approvals, type, fields):
    errors = approvals.validate(type, fields)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items())


# ---------------------------------------------------------------- the policy on submission


def test_trivial_bugfix_to_mit_project_with_dco_is_auto_approved(approvals):
    request = approvals.submit("R", "contribute", TRIVIAL | {"changed_lines": 25})
    assert request.state == "auto_approved" and request.ref == f"OSPO-{request.id}"
    assert request.license_expression == "MIT" and request.license_category == "permissive"
    assert request.decided_by == BOT and request.flags == []
    reasons = " | ".join(request.auto_reasons)
    for phrase in ("MIT is permissive", "bugfix", "25 changed lines, within 100", "no new feature", "DCO"):
        assert phrase in reasons
    assert [(e.from_state, e.to_state, e.actor) for e in approvals.events(request.id)] == [
        ("submitted", "auto_approved", "R")
    ]


@pytest.mark.parametrize("cla", ["none", "Apache ICLA", "CNCF", "Linux Foundation EasyCLA", "Google", "google cla"])
def test_preapproved_clas_and_their_aliases_are_auto_approved(approvals, cla):
    request = approvals.submit("R", "contribute", TRIVIAL | {"cla": cla})
    assert request.state == "auto_approved", request.flags


@pytest.mark.parametrize(
    "change, category, flag",
    [
        ({"change_kind": "feature"}, "permissive", "new feature"),
        ({"license": "Frobnicate Public License"}, "unknown", "Frobnicate"),
        ({"license": "no license"}, "unknown", "is unknown"),
        ({"cla": "Acme Corp CLA"}, "permissive", "'Acme Corp CLA' is not pre-approved"),
        ({"cla": "Linux Foundation CLA"}, "permissive", "not pre-approved"),  # EasyCLA only
        ({"security_fix": True}, "permissive", "security fix"),
        ({"license": "SSPL"}, "source-available", "SSPL-1.0 is source-available"),
        ({"changed_lines": 110}, "permissive", "110 changed lines, over the limit of 100"),
        ({"confidential": True}, "permissive", "confidential"),
    ],
)
def test_requests_the_policy_flags_stay_pending(approvals, change, category, flag):
    request = approvals.submit("R", "contribute", TRIVIAL | change)
    assert request.state == "pending" and request.auto_reasons == [] and request.decided_by is None
    assert request.license_category == category
    assert any(flag in f for f in request.flags), request.flags
    assert [e.to_state for e in approvals.events(request.ref)] == ["pending"]


@pytest.mark.parametrize("type", ["release", "cla", "personal", "exception"])
def test_other_types_always_go_to_the_ospo(approvals, type):
    request = approvals.submit("R", type, VALID[type])
    assert request.state == "pending" and request.flags


def test_flags_for_releases_and_exceptions(approvals):
    release = approvals.submit(
        "R", "release", VALID["release"] | {"telemetry": True, "cryptography": "yes", "proposed_license": "GPLv3"}
    )
    text = " | ".join(release.flags)
    assert "telemetry" in text and "export-control" in text and "GPL-3.0-only is strong-copyleft" in text
    exception = approvals.submit("R", "exception", VALID["exception"])
    assert "SSPL-1.0 (source-available) for saas: not allowed" in exception.flags[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Example/Widget",
        "https://github.com/example/widget.git",
        "https://github.com/example/widget/",
        "http://www.github.com/example/widget/tree/main",
        "github.com/example/widget",
        "git@github.com:Example/Widget.git",
    ],
)
def test_repository_urls_are_normalised(url):
    assert normalise_url(url) == "https://github.com/example/widget"


def test_precedent_is_found_for_the_same_repository(approvals):
    first = pending(approvals, repository_url="https://github.com/Example/Widget.git/")
    approvals.decide(first.id, "A", "approve", reason="Fine.", approvers=APPROVERS)
    other = pending(approvals, repository_url="https://github.com/example/other")
    approvals.decide(other.id, "A", "reject", reason="No.", approvers=APPROVERS)
    later = pending(approvals, repository_url="git@github.com:example/widget")
    assert [p["ref"] for p in later.precedent] == [first.ref]
    assert later.precedent[0]["state"] == "approved" and later.precedent[0]["decided_by"] == "A"
    again = pending(approvals, repository_url="https://github.com/example/other")
    assert any(f"{other.ref} for this repository was rejected: No." in f for f in again.flags)


def test_blanket_approval_covers_later_requests_for_12_months(approvals, clock):
    first = pending(approvals)
    approved = approvals.decide(first.id, "A", "approve", reason="OK", blanket=True, approvers=APPROVERS)
    assert approved.blanket and approved.blanket_until[:10] == "2027-03-01"
    later = approvals.submit("R2", "contribute", FEATURE | {"repository_url": "github.com/Example/widget/"})
    assert later.state == "auto_approved"
    assert first.ref in later.auto_reasons[0] and first.ref in later.reason
    # ...but not a security fix, a license that changed category, or a changed CLA
    assert approvals.submit("R", "contribute", FEATURE | {"security_fix": True}).state == "pending"
    relicensed = approvals.submit("R", "contribute", FEATURE | {"license": "BUSL-1.1"})
    assert any("license changed from permissive to source-available" in f for f in relicensed.flags)
    assert approvals.submit("R", "contribute", FEATURE | {"license": "Apache 2"}).state == "auto_approved"
    assert approvals.submit("R", "contribute", FEATURE | {"cla": "Google"}).state == "pending"
    clock.at += timedelta(days=366)  # expired
    assert approvals.submit("R", "contribute", FEATURE).state == "pending"


def test_single_approval_and_reopened_blanket_cover_nothing(approvals):
    one = pending(approvals)
    approvals.decide(one.id, "A", "approve", approvers=APPROVERS)
    assert pending(approvals).precedent[0]["ref"] == one.ref
    blanket = pending(approvals, repository_url="https://github.com/example/two")
    approvals.decide(blanket.id, "A", "approve", blanket=True, approvers=APPROVERS)
    reopened = approvals.decide(blanket.id, "A", "reopen", reason="Wrong team.", approvers=APPROVERS)
    assert reopened.state == "pending" and not reopened.blanket and reopened.decided_by is None
    assert pending(approvals, repository_url="https://github.com/example/two").state == "pending"
    with pytest.raises(InvalidRequest):
        approvals.decide(
            approvals.submit("R", "cla", VALID["cla"]).id, "A", "approve", blanket=True, approvers=APPROVERS
        )


# ---------------------------------------------------------------- permissions and transitions

ROLES = {  # role -> (requester, actor)
    "requester": ("R", "R"),
    "approver": ("R", "A"),
    "approver-who-is-requester": ("AR", "AR"),
    "other": ("R", "O"),
}
ACTION_STATE = {  # action -> the state where it is legal
    "approve": "pending",
    "reject": "pending",
    "needs_info": "pending",
    "reopen": "approved",
    "cancel": "pending",
    "cancel-needs_info": "needs_info",
    "answer": "needs_info",
}
ALLOWED = {  # action -> roles that may do it
    "approve": {"approver"},
    "reject": {"approver"},
    "needs_info": {"approver"},
    "reopen": {"approver"},
    "cancel": {"requester", "approver", "approver-who-is-requester"},
    "cancel-needs_info": {"requester", "approver", "approver-who-is-requester"},
    "answer": {"requester", "approver-who-is-requester"},
}
NEXT = {
    "approve": "approved",
    "reject": "rejected",
    "needs_info": "needs_info",
    "reopen": "pending",
    "cancel": "cancelled",
    "cancel-needs_info": "cancelled",
    "answer": "pending",
}


def act(approvals: Approvals, request_id, actor: str, action: str):
    if action.startswith("cancel"):
        return approvals.cancel(request_id, actor, approvers=APPROVERS)
    if action == "answer":
        return approvals.answer_info(request_id, actor, "It is 40 lines.")
    return approvals.decide(request_id, actor, action, reason="Because.", approvers=APPROVERS)


def bring_to(approvals: Approvals, requester: str, state: str):
    """A request of `requester` in `state`, by the legal path."""
    if state == "auto_approved":
        return approvals.submit(requester, "contribute", TRIVIAL)
    request = pending(approvals, requester)
    if state in ("approved", "rejected", "needs_info"):
        action = {"approved": "approve", "rejected": "reject", "needs_info": "needs_info"}[state]
        request = approvals.decide(request.id, "A", action, reason="Why.", approvers=APPROVERS)
    elif state == "cancelled":
        request = approvals.cancel(request.id, requester)
    assert request.state == state
    return request


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTION_STATE)
def test_permissions(approvals, action, role):
    requester, actor = ROLES[role]
    request = bring_to(approvals, requester, ACTION_STATE[action])
    if role in ALLOWED[action]:
        assert act(approvals, request.id, actor, action).state == NEXT[action]
    else:
        with pytest.raises(NotAllowed) as exc:
            act(approvals, request.id, actor, action)
        assert str(exc.value)
        assert approvals.get(request.id).state == ACTION_STATE[action]
        assert len(approvals.events(request.id)) == len(bring_events(ACTION_STATE[action]))


def bring_events(state: str) -> list[str]:
    return {"pending": ["pending"], "needs_info": ["pending", "needs_info"], "approved": ["pending", "approved"]}[state]


LEGAL = {
    ("pending", "approve"),
    ("pending", "reject"),
    ("pending", "needs_info"),
    ("pending", "cancel"),
    ("needs_info", "answer"),
    ("needs_info", "cancel"),
    ("approved", "reopen"),
    ("rejected", "reopen"),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ["approve", "reject", "needs_info", "reopen", "cancel", "answer"])
def test_transitions(approvals, state, action):
    request = bring_to(approvals, "R", state)
    actor = "R" if action in ("answer", "cancel") else "A"
    if (state, action) in LEGAL:
        after = act(approvals, request.id, actor, action)
        assert after.state in STATES and approvals.replay(after.id) == after.state
        return
    with pytest.raises(InvalidTransition) as exc:
        act(approvals, request.id, actor, action)
    assert exc.value.state == state and state.replace("_", " ") in str(exc.value)
    if state in ("approved", "rejected", "auto_approved"):
        assert isinstance(exc.value, AlreadyDecided)
        assert exc.value.decided_by == ("A" if state != "auto_approved" else BOT)
    assert approvals.get(request.id).state == state


def test_reopen_writes_two_events_and_keeps_the_old_decision(approvals):
    request = bring_to(approvals, "R", "rejected")
    approvals.decide(request.ref.lower(), "A", "reopen", reason="New facts.", approvers=APPROVERS)
    events = approvals.events(request.id)
    assert [(e.from_state, e.to_state) for e in events] == [
        ("submitted", "pending"),
        ("pending", "rejected"),
        ("rejected", "reopened"),
        ("reopened", "pending"),
    ]
    assert events[2].extra["previous"]["decided_by"] == "A" and events[2].extra["previous"]["reason"] == "Why."
    assert approvals.replay(request.id) == "pending"


def test_needs_info_round_trip_and_required_reasons(approvals):
    request = pending(approvals)
    for action in ("reject", "needs_info"):
        with pytest.raises(InvalidRequest):
            approvals.decide(request.id, "A", action, reason="  ", approvers=APPROVERS)
    approvals.decide(request.id, "A", "needs_info", reason="How many lines?", approvers=APPROVERS)
    with pytest.raises(InvalidRequest):
        approvals.answer_info(request.id, "R", "")
    assert approvals.answer_info(f"#{request.id}", "R", "About 40.").state == "pending"
    assert [e.reason for e in approvals.events(request.id)][-2:] == ["How many lines?", "About 40."]
    with pytest.raises(NotFound):
        approvals.decide("OSPO-999", "A", "approve", approvers=APPROVERS)
    with pytest.raises(ValueError):
        approvals.decide(request.id, "A", "bless", approvers=APPROVERS)


def test_the_audit_trail_is_append_only(approvals, database):
    import psycopg

    pending(approvals)
    db = open_db(database)
    statements = ["UPDATE approval_events SET actor = 'X'", "DELETE FROM approval_events"]
    if isinstance(database, str):
        statements.append("TRUNCATE approval_events")
    for sql in statements:
        with pytest.raises((sqlite3.DatabaseError, psycopg.DatabaseError), match="append-only"):
            db.execute(sql)
    assert [e.actor for e in approvals.events(1)] == ["R"]


def test_two_approvers_deciding_at_once_make_exactly_one_decision(database):
    store = ThreadLocalDB(database)
    approvals = Approvals(store.get, POLICY)
    ids = [pending(approvals).id for _ in range(50)]
    approvers = frozenset({"A1", "A2"})
    barrier = threading.Barrier(2, timeout=30)
    results: dict[str, list] = {"A1": [], "A2": []}

    def decide(actor: str, action: str):
        for request_id in ids:
            barrier.wait()
            try:
                results[actor].append(approvals.decide(request_id, actor, action, reason=actor, approvers=approvers))
            except Exception as exc:  # noqa: BLE001 - anything but AlreadyDecided fails below
                results[actor].append(exc)

    threads = [threading.Thread(target=decide, args=a) for a in (("A1", "approve"), ("A2", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for i, request_id in enumerate(ids):
        outcomes = [results["A1"][i], results["A2"][i]]
        losers = [o for o in outcomes if isinstance(o, AlreadyDecided)]
        winners = [o for o in outcomes if not isinstance(o, AlreadyDecided)]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        stored = approvals.get(request_id)
        assert losers[0].decided_by == stored.decided_by == winners[0].decided_by
        assert losers[0].state == stored.state == winners[0].state
        assert [e.to_state for e in approvals.events(request_id)] == ["pending", stored.state]
        assert approvals.replay(request_id) == stored.state


# ---------------------------------------------------------------- queries and export


def test_refs_lists_and_the_pending_queue(approvals, clock):
    first = pending(approvals, "R")
    clock.at += timedelta(days=2)
    second = pending(approvals, "S")
    auto = approvals.submit("S", "contribute", TRIVIAL)
    assert [parse_ref(x) for x in ("OSPO-42", "ospo-42", "42", "#42", 42, " OSPO 7 ")] == [42, 42, 42, 42, 42, 7]
    assert [parse_ref(x) for x in ("", "OSPO-", "x42", "-1", "0", None, "4 2")] == [None] * 7
    assert approvals.get(first.ref.lower()).id == first.id and approvals.get("nope") is None
    assert [r.id for r in approvals.pending()] == [first.id, second.id]
    assert [r.id for r in approvals.list(requester="S")] == [second.id, auto.id]
    assert [r.id for r in approvals.list(state="auto_approved")] == [auto.id]
    assert [r.id for r in approvals.list(since="2026-03-02")] == [second.id, auto.id]
    assert [r.id for r in approvals.list(since=datetime(2026, 3, 2, tzinfo=UTC).date())] == [second.id, auto.id]


def test_export_has_every_request_field_and_event(approvals):
    request = pending(approvals)
    approvals.decide(request.id, "A", "needs_info", reason="Size?", approvers=APPROVERS)
    approvals.answer_info(request.id, "R", "Small.")
    approvals.decide(request.id, "A", "approve", conditions="Company email.", blanket=True, approvers=APPROVERS)
    approvals.submit("R", "release", VALID["release"])
    approvals.submit("R", "contribute", TRIVIAL)
    all_events = [e for r in approvals.list() for e in approvals.events(r.id)]
    assert len(all_events) == 6

    data = json.loads(approvals.export("json"))
    assert [r["ref"] for r in data] == [r.ref for r in approvals.list()]
    assert sum(len(r["events"]) for r in data) == len(all_events)
    assert data[0]["fields"] == approvals.get(request.id).fields and data[0]["conditions"] == "Company email."
    assert [e["reason"] for e in data[0]["events"]] == [None, "Size?", "Small.", None]

    rows = list(csv.DictReader(io.StringIO(approvals.export("csv"))))
    assert sorted(int(r["event_id"]) for r in rows) == sorted(e.id for e in all_events)
    release = [r for r in rows if r["type"] == "release"][0]
    assert release["field_proposed_name"] == "yamlint-pro" and json.loads(release["flags"])
    assert {r["ref"] for r in rows} == {r.ref for r in approvals.list()}
    with pytest.raises(ValueError):
        approvals.export("xml")


# ---------------------------------------------------------------- random sequences of actions


class Workflow(RuleBasedStateMachine):
    """Random actions by random people; a model of the diagram says what each must do."""

    def __init__(self):
        super().__init__()
        self.folder = tempfile.mkdtemp()
        self.approvals = Approvals(ThreadLocalDB(Path(self.folder) / "ospo.db").get, POLICY)
        self.model: dict[int, dict] = {}  # id -> requester, repo, state, blanket

    def teardown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(requester=st.sampled_from(["R", "AR"]), trivial=st.booleans(), repo=st.sampled_from("ab"))
    def submit(self, requester, trivial, repo):
        url = f"https://github.com/example/{repo}"
        request = self.approvals.submit(
            requester, "contribute", (TRIVIAL if trivial else FEATURE) | {"repository_url": url}
        )
        covered = any(m["repo"] == url and m["state"] == "approved" and m["blanket"] for m in self.model.values())
        assert request.state == ("auto_approved" if trivial or covered else "pending")
        self.model[request.id] = {"requester": requester, "repo": url, "state": request.state, "blanket": False}

    @precondition(lambda self: self.model)
    @rule(
        pick=st.integers(min_value=0),
        actor=st.sampled_from(["R", "A", "AR", "O"]),
        action=st.sampled_from(["approve", "reject", "needs_info", "reopen", "cancel", "answer"]),
        blanket=st.booleans(),
    )
    def act(self, pick, actor, action, blanket):
        request_id = sorted(self.model)[pick % len(self.model)]
        m = self.model[request_id]
        if action in ("approve", "reject", "needs_info", "reopen"):
            allowed = actor in APPROVERS and actor != m["requester"]
        elif action == "cancel":
            allowed = actor == m["requester"] or actor in APPROVERS
        else:
            allowed = actor == m["requester"]
        blanket = blanket and action == "approve"
        try:
            if action == "cancel":
                result = self.approvals.cancel(request_id, actor, approvers=APPROVERS)
            elif action == "answer":
                result = self.approvals.answer_info(request_id, actor, "Answer.")
            else:
                result = self.approvals.decide(
                    request_id, actor, action, reason="R.", blanket=blanket, approvers=APPROVERS
                )
        except NotAllowed:
            assert not allowed
            return
        except InvalidTransition as exc:
            assert allowed and (m["state"], action) not in LEGAL and exc.state == m["state"]
            return
        assert allowed and (m["state"], action) in LEGAL
        m["state"] = NEXT[action]
        m["blanket"] = blanket
        assert result.state == m["state"] and result.blanket == blanket

    @invariant()
    def stored_state_is_in_the_diagram_and_equals_the_replay(self):
        for request_id, m in self.model.items():
            request = self.approvals.get(request_id)
            assert request.state in STATES and request.state == m["state"]
            assert self.approvals.replay(request_id) == request.state


Workflow.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
test_workflow = Workflow.TestCase
