"""The ledger of approval requests: submission, decisions and the append-only audit trail.

Every state change is one row in `approval_events`, written in the same transaction as the
conditional UPDATE of the request:

    submitted  -> auto_approved | pending
    pending    -> approved | rejected | needs_info | cancelled
    needs_info -> pending (the requester answers) | cancelled
    approved | rejected -> reopened -> pending (an approver reopens; both events in one transaction)

Who may do what is decided here and nowhere else: the Slack buttons ask `check_decision` before they
open a modal, and show its refusal.

    approvals = Approvals(ThreadLocalDB(path).get, load_policy(default_policy_path()))
    request = approvals.submit("U123", "contribute", {...})   # .state: auto_approved or pending
"""

from __future__ import annotations

import calendar
import dataclasses
import json
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

import sqlite_utils

from bot import claims, licenses
from bot.approvals import audit, rules
from bot.approvals.forms import clean, normalise_url, parse_ref, ref
from bot.approvals.records import (
    DECIDED,
    TRANSITIONS,
    AlreadyDecided,
    Event,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    NotFound,
    Request,
)
from bot.store import iso, now, transaction

BOT = "ospo-bot"  # the actor of auto-approvals
BLANKET_MONTHS = 12
ACTIONS = {"approve": "approved", "reject": "rejected", "needs_info": "needs_info", "reopen": "reopened"}
VERBS = {"approve": "approve", "reject": "reject", "needs_info": "ask for info on", "reopen": "reopen"}
OUTBOX = "approval_post"  # claims.what: posting a request to the approvals channel
_PRECEDENT = "ref type state decided_by decided_at blanket blanket_until license_category reason conditions".split()
_DECISION = dict.fromkeys(["decided_by", "decided_at", "reason", "conditions", "blanket_until"]) | {"blanket": 0}


class Approvals:
    def __init__(
        self,
        db_factory: Callable[[], sqlite_utils.Database],
        policy: licenses.Policy,
        clock: Callable[[], str] = now,
    ):
        self.db_factory, self.policy, self.clock = db_factory, policy, clock

    @property
    def db(self) -> sqlite_utils.Database:
        return self.db_factory()

    # -- submission -----------------------------------------------------------------------
    def validate(self, type: str, fields: dict[str, Any]) -> dict[str, str]:
        """Field-level errors {field: what to fix}; empty when the request can be submitted."""
        return clean(type, fields, self.policy)[1]

    def classify_cla(self, text: str) -> tuple[str, dict[str, str] | None]:
        """-> ("none" | "dco" | "preapproved" | "other", the pre-approved policy entry or None)."""
        return rules.classify_cla(text, self.policy)

    def submit(self, requester: str, type: str, fields: dict[str, Any]) -> Request:
        """Validate, check against the policy, store; auto-approved or pending. InvalidRequest if invalid."""
        if not requester:
            raise ValueError("requester is required")
        values, errors = clean(type, fields, self.policy)
        if errors:
            raise InvalidRequest(errors)
        with self._transaction() as db:
            ts = self.clock()
            repo = normalise_url(values["repository_url"]) if values.get("repository_url") else None
            precedent = self._precedent(db, repo)
            blanket = self._live_blanket(db, repo, ts) if type == "contribute" else None
            a = rules.assess(type, values, self.policy, repo=repo, precedent=precedent, blanket=blanket)
            auto = a.state == "auto_approved"
            cursor = db.execute(
                "INSERT INTO approval_requests (type, requester, state, fields, repo, license_expression, "
                "license_category, auto_reasons, flags, precedent, blanket, decided_by, decided_at, reason, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?) RETURNING id",
                [
                    type,
                    requester,
                    a.state,
                    _json(values),
                    repo,
                    a.expression,
                    a.category,
                    _json(a.auto_reasons),
                    _json(a.flags),
                    _json(precedent),
                    BOT if auto else None,
                    ts if auto else None,
                    a.reason,
                    ts,
                    ts,
                ],
            )
            request_id = cursor.fetchone()[0]
            extra = {"auto_reasons": a.auto_reasons, "flags": a.flags, "fields": values}
            self._event(db, request_id, requester, ts, "submitted", a.state, None, extra)
        return self.get(request_id)

    def _live_blanket(self, db, repo: str | None, ts: str) -> Request | None:
        """The newest blanket approval of the repository that is still valid at ts."""
        found = self._select(
            db,
            "repo = ? AND type = 'contribute' AND state = 'approved' AND blanket = 1 AND blanket_until > ? "
            "ORDER BY decided_at DESC, id DESC LIMIT 1",
            [repo, ts],
        )
        return found[0] if found else None

    def _precedent(self, db, repo: str | None) -> list[dict[str, Any]]:
        if repo is None:
            return []
        rows = self._select(
            db,
            "repo = ? AND state IN ('approved', 'rejected', 'auto_approved') "
            "ORDER BY decided_at DESC, id DESC LIMIT 10",
            [repo],
        )
        return [{k: getattr(r, k) for k in _PRECEDENT} for r in rows]

    # -- decisions ----------------------------------------------------------------------
    def check_decision(self, request_id, actor: str, action: str, approvers: Collection[str]) -> Request:
        """The request, if `actor` may `action` it now; else the refusal `decide` would give (for a
        button that opens the decision modal: nobody is shown a form they cannot submit)."""
        req = self._load(self.db, request_id)
        self._may_decide(req, actor, action, approvers)
        return req

    def decide(
        self,
        request_id,
        actor: str,
        action: str,
        reason: str | None = None,
        conditions: str | None = None,
        blanket: bool = False,
        approvers: Collection[str] = frozenset(),
    ) -> Request:
        """approve | reject | needs_info | reopen, by an approver who is not the requester."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        reason, conditions = _blank_to_none(reason), _blank_to_none(conditions)
        with self._transaction() as db:
            req = self._load(db, request_id)
            self._may_decide(req, actor, action, approvers)
            ts, target = self.clock(), ACTIONS[action]
            if action in ("reject", "needs_info") and not reason:
                raise InvalidRequest({"reason": "Say why." if action == "reject" else "Say what you need to know."})
            if blanket and (action != "approve" or req.type != "contribute"):
                raise InvalidRequest({"blanket": "Only the approval of a contribute request can be blanket."})
            decision = {"decided_by": actor, "decided_at": ts, "reason": reason}
            if action == "approve":
                until = plus_months(ts, BLANKET_MONTHS) if blanket else None
                extra = {"conditions": conditions, "blanket": blanket, "blanket_until": until}
                changes = {"state": target, **decision, **extra, "blanket": int(blanket)}
            elif action == "reject":
                changes, extra = {**_DECISION, "state": target, **decision}, {}
            elif action == "needs_info":
                changes, extra = {"state": target}, {}
            else:  # reopen: the decision is undone; the audit trail keeps it
                changes = {**_DECISION, "state": "pending"}
                extra = {"previous": {k: getattr(req, k) for k in _DECISION}}
            self._update(db, req, target, changes, ts)
            self._event(db, req.id, actor, ts, req.state, target, reason, extra)
            if action == "reopen":
                self._event(db, req.id, actor, ts, target, "pending", reason, {})
        return self.get(req.id)

    def _may_decide(self, req: Request, actor: str, action: str, approvers: Collection[str]) -> None:
        verb = VERBS.get(action, action)
        if actor not in approvers:
            raise NotAllowed(f"Only OSPO approvers may {verb} requests.")
        if actor == req.requester:
            raise NotAllowed(f"You cannot {verb} your own request {req.ref}; another approver must.")
        self._check(req, ACTIONS[action])

    def answer_info(self, request_id, actor: str, text: str) -> Request:
        """The requester answers the approver's question: needs_info -> pending."""
        text = _blank_to_none(text)
        with self._transaction() as db:
            req = self._load(db, request_id)
            if actor != req.requester:
                raise NotAllowed(f"Only the requester ({req.requester}) may answer the question on {req.ref}.")
            if not text:
                raise InvalidRequest({"text": "Write your answer."})
            self._check(req, "pending")
            ts = self.clock()
            self._update(db, req, "pending", {"state": "pending"}, ts)
            self._event(db, req.id, actor, ts, req.state, "pending", text, {})
        return self.get(req.id)

    def cancel(self, request_id, actor: str, approvers: Collection[str] = frozenset(), reason: str | None = None):
        """The requester (or an approver) withdraws a pending or needs_info request."""
        with self._transaction() as db:
            req = self._load(db, request_id)
            if actor != req.requester and actor not in approvers:
                raise NotAllowed(f"Only the requester or an OSPO approver may cancel {req.ref}.")
            self._check(req, "cancelled")
            ts = self.clock()
            self._update(db, req, "cancelled", {"state": "cancelled"}, ts)
            self._event(db, req.id, actor, ts, req.state, "cancelled", _blank_to_none(reason), {})
        return self.get(req.id)

    def _check(self, req: Request, target: str) -> None:
        if target not in TRANSITIONS.get(req.state, ()):
            self._refuse(req, target)

    @staticmethod
    def _refuse(req: Request, target: str):
        what = target.replace("_", " ")
        if req.state in DECIDED:
            by = f" by {req.decided_by}" if req.decided_by else ""
            raise AlreadyDecided(
                f"{req.ref} was already {req.state.replace('_', ' ')}{by}"
                f"{f' at {req.decided_at}' if req.decided_at else ''}; it cannot become {what}.",
                req.state,
                req.decided_by,
                req.decided_at,
            )
        raise InvalidTransition(f"{req.ref} is {req.state.replace('_', ' ')}; it cannot become {what}.", req.state)

    def _update(self, db, req: Request, target: str, changes: dict[str, Any], ts: str) -> None:
        """One conditional UPDATE: it changes nothing unless the request is still in the state we read."""
        changes = {**changes, "updated_at": ts}
        cursor = db.execute(
            f"UPDATE approval_requests SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ? AND state = ?",
            [*changes.values(), req.id, req.state],
        )
        if cursor.rowcount != 1:  # only if someone wrote outside the transaction's lock: say what won
            self._refuse(self._load(db, req.id), target)

    def _event(self, db, request_id, actor, ts, from_state, to_state, reason, extra) -> None:
        db.execute(
            "INSERT INTO approval_events (request_id, actor, at, from_state, to_state, reason, extra) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [request_id, actor, ts, from_state, to_state, reason, _json(extra)],
        )

    def _transaction(self):
        """BEGIN IMMEDIATE: the write lock is taken before the state is read, so deciders queue up."""
        return transaction(self.db)

    # -- reading ------------------------------------------------------------------------
    def get(self, request_id) -> Request | None:
        """The request for 42, "OSPO-42", "#42"...; None if there is none."""
        found = self._select(self.db, "id = ?", [parse_ref(request_id)])
        return found[0] if found else None

    def _load(self, db, request_id) -> Request:
        """The request, inside a decision's transaction: PostgreSQL locks its row (SELECT ... FOR UPDATE)
        until the decision commits, as SQLite's BEGIN IMMEDIATE already locks the whole database."""
        found = self._select(db, "id = ?" + db.dialect.FOR_UPDATE, [parse_ref(request_id)])
        if not found:
            raise NotFound(f"There is no request {request_id}.")
        return found[0]

    @staticmethod
    def _select(db, where: str, args: list) -> list[Request]:
        """Requests WHERE `where` (which may end in ORDER BY / LIMIT)."""
        found = []
        for r in db.query(f"SELECT * FROM approval_requests WHERE {where}", args):
            decoded = {k: json.loads(r[k] or "[]") for k in ("fields", "auto_reasons", "flags", "precedent")}
            found.append(Request(**(r | decoded | {"ref": ref(r["id"]), "blanket": bool(r["blanket"])})))
        return found

    def events(self, request_id) -> list[Event]:
        """The audit trail of one request, oldest first."""
        return self._events(self.db, "request_id = ?", [parse_ref(request_id)])

    @staticmethod
    def _events(db, where: str, args: list) -> list[Event]:
        rows = db.query(f"SELECT * FROM approval_events WHERE {where} ORDER BY id", args)
        return [Event(**(r | {"extra": json.loads(r["extra"])})) for r in rows]

    def with_question(self, request: Request) -> Request:
        """A needs_info request with who asked what as its decided_by and reason: the ledger keeps the
        question in the audit trail only."""
        if request.state != "needs_info":
            return request
        asked = [e for e in self.events(request.id) if e.to_state == "needs_info"]
        return dataclasses.replace(request, decided_by=asked[-1].actor, reason=asked[-1].reason) if asked else request

    def replay(self, request_id) -> str:
        """The state rebuilt from the audit trail alone; raises ValueError if the trail is inconsistent."""
        return audit.replay(self.events(request_id), request_id)

    def export(self, format: str = "json") -> str:
        """Every request with every field and every event: JSON (requests with "events") or CSV (a row per event)."""
        return audit.export(self.list(), self._events(self.db, "1 = 1", []), format)

    def list(
        self, state: str | None = None, requester: str | None = None, since: str | date | datetime | None = None
    ) -> list[Request]:
        """Requests by id; filtered by state, requester, created on or after `since` (date or ISO string)."""
        where, args = ["1 = 1"], []
        for column, value in (("state", state), ("requester", requester)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            if isinstance(since, datetime):
                since = iso(since)
            where.append("created_at >= ?")
            args.append(since.isoformat() if isinstance(since, date) else str(since))
        return self._select(self.db, " AND ".join(where) + " ORDER BY id", args)

    def exceptions(self) -> list[Request]:
        """Approved `exception` requests: the components `deps check` allows (bot.deps.grants)."""
        return self._select(self.db, "type = 'exception' AND state = 'approved' ORDER BY id", [])

    def pending(self) -> list[Request]:
        """The approvers' queue, oldest first."""
        return sorted(self.list(state="pending"), key=lambda r: (r.created_at, r.id))

    def waiting_on_requesters(self) -> list[tuple[Request, str]]:
        """Requests in needs_info, each with when the OSPO asked (its latest needs_info event)."""
        asked = dict(
            self.db.execute(
                "SELECT request_id, max(at) FROM approval_events WHERE to_state = 'needs_info' GROUP BY request_id"
            ).fetchall()
        )
        return [(r, asked.get(r.id) or r.updated_at) for r in self.list(state="needs_info")]

    # -- the approvals channel: where each pending request was posted ---------------------
    def unposted(self, request_id: int | None = None) -> list[int]:
        """Pending requests without an approvals-channel message (all, or just request_id), oldest first:
        the outbox, posted by the Slack adapter when Slack takes it."""
        where = "AND id = ?" if request_id is not None else ""
        rows = self.db.execute(
            "SELECT id FROM approval_requests WHERE state = 'pending' "
            f"AND id NOT IN (SELECT request_id FROM approval_messages) {where} ORDER BY created_at, id",
            [request_id] if request_id is not None else [],
        ).fetchall()
        return [r[0] for r in rows]

    def claim_post(self, request_id: int) -> str | None:
        """A claim on posting the request for approvers (bot/claims.py): a token to finish_post with,
        or None when another process is posting it or it was posted already."""
        token = claims.claim(self.db, OUTBOX, request_id)
        if token is not None and not self.unposted(request_id):  # the claim's last holder posted it
            self.finish_post(request_id, token)
            return None
        return token

    def finish_post(self, request_id: int, token: str, channel: str | None = None, ts: str | None = None) -> None:
        """Release the claim, recording the message when it was posted (together: the next claimer
        sees it posted)."""
        db = self.db
        with db.writing():
            if ts is not None:
                db.execute(
                    "INSERT INTO approval_messages (request_id, channel, ts) VALUES (?, ?, ?) "
                    "ON CONFLICT (request_id) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
                    [request_id, channel, ts],
                )
            claims.release(db, OUTBOX, request_id, token)

    def posted_message(self, request_id: int) -> tuple[str, str] | None:
        """(channel, ts) of the request's message for approvers, or None if it was never posted."""
        row = self.db.execute("SELECT channel, ts FROM approval_messages WHERE request_id = ?", [request_id]).fetchone()
        return (row[0], row[1]) if row else None


def plus_months(timestamp: str, months: int) -> str:
    d = datetime.fromisoformat(timestamp)
    year, month = divmod(d.month - 1 + months, 12)
    year, month = d.year + year, month + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day).isoformat(timespec="seconds")


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
