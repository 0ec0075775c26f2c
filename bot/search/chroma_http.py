"""A client for a Chroma server (CHROMA_HOST) that gives up after CHROMA_TIMEOUT_SECONDS.

chromadb's own HttpClient waits for ever (its httpx session has timeout=None): a Chroma server that
stops answering without closing its connections (a hung process, a network partition, a node gone
without a reset) would hold every question that needs it, and each /healthz probe, until the bot is
restarted; the HTTP server's few threads are soon all stuck. With a timeout the question is answered
from keyword search instead (marked degraded), as when the server is down, and /healthz says so.
"""

from __future__ import annotations

import httpx
from chromadb.api.client import Client

CONNECT_SECONDS = 5.0  # at most: a server on the same network accepts a connection in milliseconds


class ClientWithTimeout(Client):
    """chromadb's client, whose HTTP sessions get the timeout before their first requests, which
    chromadb makes while constructing it: get_user_identity on the client's own, then checking the
    tenant and database on an admin client's, made with a System (and a session) of its own.
    chromadb has no setting for this timeout: the session is its HTTP API's
    (chromadb.api.fastapi.FastAPI._session, an httpx.Client)."""

    def get_user_identity(self):
        self._limit(self._server)
        return super().get_user_identity()

    def _validate_tenant_database(self, tenant: str, database: str) -> None:
        self._limit(self._admin_client._server)
        super()._validate_tenant_database(tenant, database)

    def _limit(self, server) -> None:
        seconds = float(self._system.settings.chroma_query_request_timeout_seconds)
        server._session.timeout = httpx.Timeout(seconds, connect=min(seconds, CONNECT_SECONDS))


def http_client(host: str, port: int, timeout_seconds: int) -> Client:
    """A client of the Chroma server at host:port, as chromadb.HttpClient makes one, whose every
    request fails (httpx.TimeoutException) once it has waited timeout_seconds."""
    from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(
        anonymized_telemetry=False,
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=host,
        chroma_server_http_port=port,
        chroma_query_request_timeout_seconds=timeout_seconds,
    )
    return ClientWithTimeout(tenant=DEFAULT_TENANT, database=DEFAULT_DATABASE, settings=settings)
