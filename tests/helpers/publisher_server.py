"""A stand-in for the official publishers' web servers, on 127.0.0.1 only.

Tests register what each official URL returns (`publish`), point `SourceResource.url_rewrites` at the
server (`rewrites`) and read back which requests arrived (`hits`). Paths are the official ones, so the
same server answers for every publisher host. Unregistered paths get a 404 HTML page, as real servers do.
"""

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from pipeline.fetch.urls import ALLOWED_HOSTS

NOT_FOUND_PAGE = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body>404</body></html>"


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    # announce the full Content-Length but send only this many bytes, then drop the connection
    truncate_to: int | None = None
    send_length: bool = True
    etag: str = ""
    delay_seconds: float = 0.0  # wait this long before answering (timeouts)


def route_key(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class PublisherServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.hits: dict[str, list[int]] = defaultdict(list)  # route -> statuses sent
        self.request_headers: dict[str, list[dict[str, str]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def rewrites(self) -> dict[str, str]:
        return {f"https://{host}": self.base for host in sorted(ALLOWED_HOSTS)}

    def publish(self, official_url: str, *replies: Reply) -> None:
        """What the URL returns: one reply per request in turn, the last one repeating."""
        with self._lock:
            self.routes[route_key(official_url)] = list(replies)

    def withdraw(self, official_url: str) -> None:
        with self._lock:
            self.routes.pop(route_key(official_url), None)

    def hit_count(self, official_url: str) -> int:
        return len(self.hits[route_key(official_url)])

    def _next_reply(self, key: str) -> Reply | None:
        with self._lock:
            replies = self.routes.get(key)
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                key = self.path
                server.request_headers[key].append(dict(self.headers.items()))
                reply = server._next_reply(key) or Reply(NOT_FOUND_PAGE, 404, "text/html; charset=utf-8")
                time.sleep(reply.delay_seconds)
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    server.hits[key].append(304)
                    self.send_response(304)
                    self.send_header("ETag", reply.etag)
                    self.end_headers()
                    return
                server.hits[key].append(reply.status)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up mid-body, as the stop-signal and timeout tests make it do
                self.close_connection = True

        return Handler

    def start(self) -> "PublisherServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running_publisher() -> Iterator[PublisherServer]:
    server = PublisherServer().start()
    try:
        yield server
    finally:
        server.stop()
