"""A fake Slack Web API on 127.0.0.1 for the tests: the real slack_sdk WebClient talks to it
through its base URL (as the bot will through SLACK_API_URL).

It answers the methods the bot uses the way Slack does (JSON with "ok", ids and timestamps),
records every call with its arguments, and can be told to fail: `ok: false` errors, HTTP 429
with Retry-After, 5xx, and hanging past the client's timeout; a failure may be limited to calls
matching `where(args)` (e.g. one channel) and kept until `clear_failures()`. Tests assert on
`calls_to(method)`: what Slack would have received (`ok=True`: only what it accepted).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "UBOT0001"
TEAM = "T0001"
WORKFLOW_TOKEN = "xwfp-test-workflow-token"  # what function_executed events carry as bot_access_token
# The scopes auth.test reports as granted (its x-oauth-scopes header), unless a test says otherwise.
GRANTED = (
    "app_mentions:read,assistant:write,channels:history,chat:write,commands,files:read,files:write,groups:history,"
    "im:history,links:read,links:write,reactions:write,usergroups:read,users:read"
)


@dataclass
class Call:
    method: str
    args: dict
    token: str | None
    at: float = field(default_factory=time.monotonic)  # when it arrived (for the benchmarks)
    ok: bool | None = None  # what Slack answered: None until then; False for a failure or a hang


@dataclass
class Failure:
    status: int = 200
    error: str | None = None  # ok: false with this error
    retry_after: int | None = None
    hang: float = 0  # seconds to hold the request unanswered first (past the client's timeout)
    where: Callable[[dict], bool] | None = None  # only calls whose args match fail
    forever: bool = False  # not used up: fails every matching call until clear_failures()


class ListeningServer(ThreadingHTTPServer):
    # The bot calls Slack from dozens of threads at once (bench/load.py): with socketserver's default
    # backlog of 5, the kernel drops the extra connects and the bot's calls retry them a second later.
    request_queue_size = 256


class FakeSlack:
    def __init__(self, tokens: tuple[str, ...] = (BOT_TOKEN, WORKFLOW_TOKEN)):
        self.tokens = set(tokens)
        self.scopes = GRANTED  # auth.test's x-oauth-scopes
        self.auth = {"team_id": TEAM, "team": "Example", "enterprise_id": None}  # what auth.test says (org installs)
        self.time_zones: dict[str, str] = {}  # user id -> tz users.info reports (default Europe/Berlin)
        self.executions: dict[str, str] = {}  # function_execution_id -> completed | failed
        # Token rotation (oauth.v2.access with grant_type=refresh_token): refresh token -> the next pair.
        self.refresh_tokens: dict[str, str] = {}
        self.token_lifetime = 43200  # seconds, as Slack's rotating tokens (12 hours)
        self.calls: list[Call] = []
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Condition()
        self._unhang = threading.Event()  # set to end the current hangs: Slack answers again, or the fake stops
        self.socket_url: str | None = None  # what apps.connections.open hands out (Socket Mode)
        self.usergroups: dict[str, list[str]] = {}  # user group id -> member ids (usergroups.users.list)
        self.files: dict[str, dict] = {}  # file id -> its files.info object, plus "content" (add_file)
        self._ts = itertools.count(1)
        self._server = ListeningServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._unhang.set()
        self._server.shutdown()
        self._server.server_close()

    # -- telling it to fail -------------------------------------------------------------
    def fail(self, method: str, error: str = "channel_not_found", times: int | None = 1, where=None) -> None:
        self._queue(method, Failure(error=error, where=where), times)

    def rate_limit(self, method: str, retry_after: int = 0, times: int | None = 1, where=None) -> None:
        self._queue(method, Failure(status=429, error="ratelimited", retry_after=retry_after, where=where), times)

    def server_error(self, method: str, status: int = 503, times: int | None = 1, where=None) -> None:
        self._queue(method, Failure(status=status, where=where), times)

    def hang(self, method: str, seconds: float, times: int | None = 1, where=None) -> None:
        """Hold matching calls unanswered for `seconds` or until `clear_failures()` (then answer 503,
        to a client long gone): Slack timing out. Nothing is done for them."""
        self._queue(method, Failure(status=503, hang=seconds, where=where), times)

    def clear_failures(self, method: str | None = None) -> None:
        """Slack answers again: drop the failures still queued (for one method, or all); end hangs."""
        with self._lock:
            if method is None:
                self._failures.clear()
            else:
                self._failures.pop(method, None)
            self._unhang.set()
            self._unhang = threading.Event()

    def _queue(self, method: str, failure: Failure, times: int | None) -> None:
        """times=None: every matching call fails until clear_failures()."""
        failure.forever = times is None
        with self._lock:
            self._failures.setdefault(method, []).extend([failure] * (1 if times is None else times))

    # -- what it received ---------------------------------------------------------------
    def calls_to(self, method: str, ok: bool | None = None) -> list[dict]:
        """The arguments of every call to method (ok=True: only those Slack accepted)."""
        with self._lock:
            return [call.args for call in self.calls if call.method == method and (ok is None or call.ok == ok)]

    def wait_for(self, method: str, count: int = 1, timeout: float = 60.0, where=None, ok: bool | None = None):
        """Block until `count` calls to method (matching `where(args)`; ok=True: accepted) arrived;
        fail after timeout. The bot answers after it acks, so tests wait on the call, not the clock."""
        return [call.args for call in self.wait_for_calls(method, count, timeout, where, ok)]

    def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 60.0, where=None, ok: bool | None = None
    ) -> list[Call]:
        """wait_for, giving the Calls (with the time each arrived). Each wake-up looks only at the calls
        that came since the last (and at those still awaiting Slack's answer, for `ok`): benchmarks
        have 20 waiters and thousands of calls, and rescanning them all made the fake Slack the load."""
        found: list[tuple[int, Call]] = []
        unanswered: list[tuple[int, Call]] = []  # matching, but ok is asked and Slack has not answered yet
        seen = 0

        def enough() -> bool:
            nonlocal seen, unanswered
            if seen > len(self.calls):  # the calls were cleared meanwhile
                found.clear()
                unanswered, seen = [], 0
            for n, call in enumerate(self.calls[seen:], start=seen):
                if call.method == method and (where is None or where(call.args)):
                    unanswered.append((n, call))
            seen = len(self.calls)
            waiting = []
            for n, call in unanswered:
                if ok is None or call.ok == ok:
                    found.append((n, call))
                elif call.ok is None:
                    waiting.append((n, call))
            unanswered = waiting
            return len(found) >= count

        with self._lock:
            if not self._lock.wait_for(enough, timeout=timeout):
                raise AssertionError(
                    f"expected {count} {method} call(s) within {timeout}s, got "
                    f"{len(found)}; all calls: {[c.method for c in self.calls]}"
                )
            return [call for _, call in sorted(found, key=lambda pair: pair[0])]

    def response_url(self, name: str = "cmd") -> str:
        """A response_url for payloads: what the bot posts there is recorded as method 'response'."""
        return self.base_url.replace("/api/", f"/response/{name}")

    # -- answering ----------------------------------------------------------------------
    def answer(self, method: str, args: dict, token: str | None) -> tuple[int, dict, dict]:
        call = Call(method, args, token)
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
            queued = self._failures.get(method) or []
            failure = next((f for f in queued if f.where is None or f.where(args)), None)
            if failure and not failure.forever:
                queued.remove(failure)
        status, body, headers = self._outcome(method, args, token, failure)
        with self._lock:
            call.ok = status == 200 and bool(body.get("ok"))
            self._lock.notify_all()
        return status, body, headers

    def _outcome(self, method: str, args: dict, token: str | None, failure: Failure | None) -> tuple[int, dict, dict]:
        if failure:
            if failure.hang:
                with self._lock:
                    unhang = self._unhang
                unhang.wait(failure.hang)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            body = {"ok": False, "error": failure.error} if failure.error else {"ok": False}
            return failure.status, body, headers
        if method in ("response", "upload"):  # response_url and upload_url take no token
            return 200, {"ok": True}, {}
        if method in ("oauth.v2.access", "oauth.v2.exchange"):  # client id and secret, no token
            return 200, getattr(self, "m_" + method.replace(".", "_"))(args), {}
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token not in self.tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        headers = {"x-oauth-scopes": self.scopes} if method == "auth.test" else {}
        return 200, handler(args), headers

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def m_apps_connections_open(self, args):
        if not self.socket_url:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_url}

    def m_auth_test(self, args):
        enterprise = self.auth.get("enterprise_id")
        return {
            "ok": True,
            "url": "https://example.slack.com/",
            "team": self.auth["team"],
            "user": "ospo-bot",
            "team_id": self.auth["team_id"],
            "user_id": BOT_USER,
            "bot_id": "B0001",
            **(
                {"enterprise_id": enterprise, "is_enterprise_install": self.auth["team_id"] == enterprise}
                if enterprise
                else {}
            ),
        }

    def m_chat_postMessage(self, args):
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        return {
            "ok": True,
            "channel": args["channel"],
            "ts": ts,
            "message": {"text": args.get("text", ""), "ts": ts, "user": BOT_USER},
        }

    def m_chat_postEphemeral(self, args):
        return {"ok": True, "message_ts": self._next_ts()}

    def m_chat_update(self, args):
        channel, ts = args.get("channel"), args.get("ts")
        return {"ok": True, "channel": channel, "ts": ts, "text": args.get("text", "")}

    def m_conversations_open(self, args):
        users = str(args.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}

    def m_reactions_add(self, args):
        return {"ok": True}

    def m_reactions_remove(self, args):
        return {"ok": True}

    def m_views_open(self, args):
        return {"ok": True, "view": {"id": "V" + self._next_ts().replace(".", "")}}

    def m_views_update(self, args):
        return {"ok": True, "view": {"id": args.get("view_id", "V1")}}

    def m_views_publish(self, args):
        return {"ok": True, "view": {"id": "VHOME"}}

    def m_users_info(self, args):
        # Shape: docs.slack.dev/reference/methods/users.info (tz, tz_label, tz_offset in seconds).
        from zoneinfo import ZoneInfo

        user = args.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        tz = self.time_zones.get(user, "Europe/Berlin")
        offset = ZoneInfo(tz).utcoffset(datetime.now(UTC))
        return {
            "ok": True,
            "user": {"id": user, "name": "someone", "tz": tz, "tz_label": tz, "tz_offset": int(offset.total_seconds())},
        }

    # -- Agents & AI apps: the assistant pane (assistant.threads.*) --------------------------------
    def m_assistant_threads_setStatus(self, args):  # noqa: N802 (Slack's method name)
        return self._thread_call(args)

    def m_assistant_threads_setTitle(self, args):  # noqa: N802
        return self._thread_call(args)

    def m_assistant_threads_setSuggestedPrompts(self, args):  # noqa: N802
        prompts = args.get("prompts")
        prompts = json.loads(prompts) if isinstance(prompts, str) else prompts
        if not prompts or len(prompts) > 4 or any(not p.get("title") or not p.get("message") for p in prompts):
            return {"ok": False, "error": "invalid_arguments"}
        return self._thread_call(args)

    def _thread_call(self, args):
        if not args.get("channel_id") or not args.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    # -- link unfurls ---------------------------------------------------------------------------
    def m_chat_unfurl(self, args):
        unfurls = args.get("unfurls")
        unfurls = json.loads(unfurls) if isinstance(unfurls, str) else unfurls
        has_target = (args.get("channel") and args.get("ts")) or (args.get("unfurl_id") and args.get("source"))
        if not has_target or not isinstance(unfurls, dict) or not unfurls:
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    # -- Workflow Builder custom steps ------------------------------------------------------------
    def m_functions_completeSuccess(self, args):  # noqa: N802
        return self._complete(args, "completed")

    def m_functions_completeError(self, args):  # noqa: N802
        return self._complete(args, "failed")

    def _complete(self, args, outcome: str):
        execution = args.get("function_execution_id")
        if not execution:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            if execution in self.executions:  # Slack finishes an execution once
                return {"ok": False, "error": "execution_not_in_running_state"}
            self.executions[execution] = outcome
        return {"ok": True}

    # -- token rotation (docs.slack.dev/authentication/using-token-rotation) ------------------------
    def m_oauth_v2_access(self, args):
        if args.get("client_id") != "C1.ID" or args.get("client_secret") != "client-secret":
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") != "refresh_token" or args.get("refresh_token") not in self.refresh_tokens:
            return {"ok": False, "error": "invalid_refresh_token"}
        return self._new_pair(self.refresh_tokens.pop(args["refresh_token"]))

    def m_oauth_v2_exchange(self, args):
        if args.get("client_id") != "C1.ID" or args.get("client_secret") != "client-secret":
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("token") not in self.tokens or not str(args.get("token")).startswith("xoxb-"):
            return {"ok": False, "error": "invalid_auth"}
        return self._new_pair(args["token"])

    def _new_pair(self, previous: str) -> dict:
        """A new access token (the previous one keeps working until it expires) and a new refresh token."""
        n = self._next_ts().split(".")[1]
        access, refresh = f"xoxe.xoxb-1-rotated-{n}", f"xoxe-1-refresh-{n}"
        with self._lock:
            self.tokens.add(access)
            self.refresh_tokens[refresh] = access
        return {
            "ok": True,
            "access_token": access,
            "token_type": "bot",
            "scope": self.scopes,
            "bot_user_id": BOT_USER,
            "app_id": "A0001",
            "team": {"id": self.auth["team_id"], "name": self.auth["team"]},
            "enterprise": None,
            "is_enterprise_install": False,
            "refresh_token": refresh,
            "expires_in": self.token_lifetime,
        }

    def issue_refresh_token(self) -> str:
        """A refresh token as Slack shows it on the app's page once rotation is on."""
        n = self._next_ts().split(".")[1]
        refresh = f"xoxe-1-initial-{n}"
        self.refresh_tokens[refresh] = BOT_TOKEN
        return refresh

    def m_usergroups_users_list(self, args):
        return {"ok": True, "users": list(self.usergroups.get(args.get("usergroup"), []))}

    def m_files_getUploadURLExternal(self, args):  # noqa: N802 (Slack's method name)
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + self._next_ts().split(".")[1]
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def m_files_completeUploadExternal(self, args):  # noqa: N802
        files = json.loads(args.get("files") or "[]")
        uploaded = {a["file_id"] for a in self.calls_to("upload")}
        if not files or any(f.get("id") not in uploaded for f in files):
            return {"ok": False, "error": "file_not_found"}  # completed before its bytes were posted
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    # -- files shared with the bot: files.info, and url_private served on loopback ---------------------
    def add_file(self, name: str, content: bytes, mimetype: str = "application/json", **info) -> dict:
        """A file someone shared: its files.info object (as docs.slack.dev/reference/objects/file-object),
        downloadable from url_private_download with a valid token. `info` overrides fields (e.g. size)."""
        file_id = "F" + self._next_ts().split(".")[1].rjust(9, "0")
        base = self.base_url.replace("/api/", f"/files-pri/{TEAM}-{file_id}")
        obj = {
            "id": file_id, "created": int(time.time()), "timestamp": int(time.time()), "name": name, "title": name,
            "mimetype": mimetype, "filetype": name.rsplit(".", 1)[-1], "pretty_type": name.rsplit(".", 1)[-1].upper(),
            "user": "U0ASKER1", "size": len(content), "mode": "hosted", "is_external": False, "is_public": False,
            "url_private": f"{base}/{name}", "url_private_download": f"{base}/download/{name}",
            "permalink": f"https://example.slack.com/files/U0ASKER1/{file_id}/{name}",
        } | info  # fmt: skip
        self.files[file_id] = obj | {"content": content}
        return obj

    def m_files_info(self, args):
        found = self.files.get(args.get("file") or "")
        if found is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": {k: v for k, v in found.items() if k != "content"}, "comments": []}

    def download(self, path: str, token: str | None) -> tuple[int, bytes, dict]:
        """GET url_private(_download): the bytes with a valid bot token; without one, Slack's answer to a
        browser, a redirect to its sign-in page. Recorded as method "download" (failures: fail("download"))."""
        file_id = path.split("/")[2].split("-", 1)[-1]
        status, body, headers = self.answer("download", {"file": file_id, "path": path}, token)
        if status != 200 or not body.get("ok"):
            return status if status != 200 else 404, b"", {}
        return 200, body["content"], {"Content-Type": body["mimetype"]}

    def m_download(self, args):
        found = self.files.get(args["file"])
        if found is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "content": found["content"], "mimetype": found["mimetype"]}

    def uploads(self) -> dict[str, bytes]:
        """file id -> the bytes POSTed to its upload_url (method "upload")."""
        return {a["file_id"]: a["bytes"] for a in self.calls_to("upload")}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                path, _, query = self.path.partition("?")  # GET methods (usergroups.users.list) use the query
                if path.startswith("/files-pri/"):  # a file's url_private: raw bytes, the token in the header
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip() or None
                    status, data, headers = fake.download(path, token)
                    if status == 200 or token in fake.tokens:
                        self._raw(status, data, headers)
                    else:  # no or a bad token: what a browser gets
                        self._raw(302, b"", {"Location": "https://example.slack.com/?redir=" + path})
                    return
                method = path.rsplit("/", 1)[-1]
                if path.startswith("/response/"):
                    method = "response"  # a response_url: no token, like Slack's hooks
                length = int(self.headers.get("Content-Length") or 0)
                if path.startswith("/api/upload/"):  # an upload_url: the file's bytes, recorded as they came
                    data = self.rfile.read(length) if length else b""
                    args = {"file_id": method, "bytes": data, "content_type": self.headers.get("Content-Type")}
                    status, body, headers = fake.answer("upload", args, None)
                    self._reply(status, body, headers)
                    return
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                args = {**dict(parse_qsl(query)), **args}
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):  # oauth.v2.*: the app's client id and secret, as slack_sdk sends them
                    client_id, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
                    args = {**args, "client_id": client_id, "client_secret": secret}
                    auth = ""
                # oauth.v2.exchange's `token` argument is what it exchanges, not what authorises the call
                keep = method.startswith("oauth.")
                token = auth.removeprefix("Bearer ").strip() or (args.get if keep else args.pop)("token", None)
                if keep and token:  # slack_sdk sends it as a bearer token
                    args.setdefault("token", token)
                status, body, headers = fake.answer(method, args, token)
                self._reply(status, body, headers)

            def _raw(self, status, data: bytes, headers):
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (past a limit)
                    pass

            def _reply(self, status, body, headers):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a hang): fine
                    pass

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):  # keep test output quiet
                pass

        return Handler
