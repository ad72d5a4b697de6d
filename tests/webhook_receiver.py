"""A loopback webhook receiver for the integration and e2e tests: answers each POST with the next
step of its script ("fail": 500, "hang": no answer for `hang_seconds`, "ok": 200) and keeps what
it received and when."""

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    at: float  # time.monotonic()
    path: str
    headers: dict[str, str]
    body: bytes
    answered: str


@dataclass
class Receiver:
    url: str
    script: list[str]
    hang_seconds: float = 3.0
    received: list[Received] = field(default_factory=list)

    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.answered == "ok"]


@contextmanager
def receiver(
    *script: str, hang_seconds: float = 3.0, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> Iterator[Receiver]:
    """Steps past the end of the script answer "ok". With `tls`, it answers HTTPS, and its URL
    names `host`."""
    state = Receiver("", list(script), hang_seconds)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                step = state.script.pop(0) if state.script else "ok"
                state.received.append(
                    Received(
                        time.monotonic(),
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        step,
                    )
                )
            if step == "hang":
                time.sleep(state.hang_seconds)
                return
            code = 500 if step == "fail" else 200
            answer = b"database down" if step == "fail" else b"thanks"
            self.send_response(code)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    state.url = f"{scheme}://{host}:{server.server_address[1]}/hooks/cairn"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
