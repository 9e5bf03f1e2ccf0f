"""Local stand-ins for the delivery providers, started by tests and benchmarks.

Each records what it receives and can be told to misbehave: answer 500, reject the message
(422 / Twilio 21211 / SMTP 550) or hang past the client's time-out. Switch `mode` at any time
(thread-safe enough: a plain attribute read per request).

    with ResendStub() as resend_stub:  # RESEND_API_URL = resend_stub.url
        ...
        resend_stub.mode = "fail"
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

Mode = Literal["ok", "fail", "reject", "hang"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    peer: tuple[str, int] = ("", 0)  # the client's address: equal for requests on one connection
    at: float = field(default_factory=time.monotonic)


class _BacklogHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections under concurrent load (the client then waits
    # a second for its SYN retry): a stub should not be the bottleneck it measures.
    request_queue_size = 512


class StubHttpServer:
    """A threaded HTTP server on 127.0.0.1 with a free port; subclasses answer in `respond`."""

    def __init__(self, delay_seconds: float = 0.0, hang_seconds: float = 5.0) -> None:
        self.mode: Mode = "ok"
        self.delay_seconds = delay_seconds  # every answer waits this long (a slow provider)
        self.hang_seconds = hang_seconds  # mode "hang": how long before answering at all
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if "json" in content_type:
                    body: Any = json.loads(raw or b"null")
                else:
                    body = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
                request = RecordedRequest(
                    "POST", self.path, dict(self.headers.items()), body, self.client_address
                )
                with stub.lock:
                    stub.requests.append(request)
                mode = stub.mode
                if mode == "hang":
                    time.sleep(stub.hang_seconds)
                elif stub.delay_seconds:
                    time.sleep(stub.delay_seconds)
                status, answer = stub.respond(request, mode)
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (time-out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _BacklogHttpServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def respond(self, request: RecordedRequest, mode: Mode) -> tuple[int, Any]:
        raise NotImplementedError

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ResendStub(StubHttpServer):
    """POST /emails as Resend answers it, honouring Idempotency-Key: a repeated key gets the
    first answer again and is not delivered twice (`deliveries` counts deliveries per key)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids_by_key: dict[str, str] = {}
        self.deliveries: Counter[str] = Counter()
        self.delivered: list[dict[str, Any]] = []

    def respond(self, request: RecordedRequest, mode: Mode) -> tuple[int, Any]:
        if request.path != "/emails":
            return 404, {"statusCode": 404, "name": "not_found", "message": "no such route"}
        if mode == "fail":
            return 500, {"statusCode": 500, "name": "internal_server_error", "message": "stub failure"}
        if mode == "reject":
            return 422, {"statusCode": 422, "name": "validation_error", "message": "Invalid `to` field."}
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            if key and key in self.ids_by_key:
                return 200, {"id": self.ids_by_key[key]}
            email_id = str(uuid.uuid4())
            if key:
                self.ids_by_key[key] = email_id
                self.deliveries[key] += 1
            self.delivered.append(request.body)
        return 200, {"id": email_id}


class TwilioStub(StubHttpServer):
    """POST /2010-04-01/Accounts/{sid}/Messages.json as Twilio answers it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delivered: list[dict[str, Any]] = []

    def respond(self, request: RecordedRequest, mode: Mode) -> tuple[int, Any]:
        if not request.path.endswith("/Messages.json"):
            return 404, {"code": 20404, "message": "not found", "status": 404}
        if mode == "fail":
            return 500, {"code": 20500, "message": "stub failure", "status": 500}
        if mode == "reject":
            return 400, {
                "code": 21211,
                "message": "The 'To' number is not a valid phone number.",
                "status": 400,
            }
        sid = "SM" + uuid.uuid4().hex
        with self.lock:
            self.delivered.append(request.body)
        return 201, {
            "sid": sid,
            "status": "queued",
            "to": request.body.get("To"),
            "from": request.body.get("From"),
            "body": request.body.get("Body"),
        }


class _SmtpHandler:
    def __init__(self, stub: SmtpStub) -> None:
        self.stub = stub

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's naming)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.stub.mode == "reject" or address in self.stub.rejected_addresses:
            return "550 5.1.1 no such mailbox"
        if self.stub.mode == "fail":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        self.stub.received.append(message_from_bytes(content))
        return "250 Message accepted"


class SmtpStub:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, without TLS; `received` holds the messages."""

    def __init__(self) -> None:
        self.mode: Mode = "ok"
        self.rejected_addresses: set[str] = set()
        self.received: list[Any] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> Self:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
