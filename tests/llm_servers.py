"""Scripted LLM servers on loopback that speak the providers' HTTP protocols.

The real LangChain clients (ChatOpenAI, ChatOllama) talk to these exactly as they would
to a provider; only the model is scripted. A script is a function from the chat
messages of a request (``[{"role": ..., "content": ...}, ...]``) to the reply text.

    with OpenAICompatibleServer(script) as server:
        settings = Settings(llm="openai", openai_base_url=server.base_url, ...)
        ...
        server.requests  # what the client sent: path, headers, JSON body

Each server runs ``http.server`` in a thread on 127.0.0.1 with an ephemeral port.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Messages = list[dict[str, Any]]
Script = Callable[[Messages], str]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> Messages:
        return list(self.body.get("messages", []))


def pieces(text: str) -> list[str]:
    """Split a reply into small streaming chunks (a few characters, like real tokens)."""
    return re.findall(r".{1,3}", text, flags=re.S) or [""]


class _LoopbackServer:
    """Base: an HTTP server thread that records requests and answers from a script."""

    def __init__(self, script: Script, *, api_key: str | None = None) -> None:
        self.script = script
        self.api_key = api_key  # when set, requests without this bearer token get 401
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> _LoopbackServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and "chat" in r.path]

    # --- request handling ---------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = RecordedRequest(method, handler.path, headers, body)
        with self._lock:
            self.requests.append(request)
        if self.api_key is not None:
            auth = handler.headers.get("Authorization", "")
            if auth != f"Bearer {self.api_key}":
                self._send_json(
                    handler,
                    401,
                    {
                        "error": {
                            "message": "bad api key",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    },
                )
                return
        self.route(handler, method, request)

    def route(self, handler: BaseHTTPRequestHandler, method: str, request: RecordedRequest) -> None:
        raise NotImplementedError

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class OpenAICompatibleServer(_LoopbackServer):
    """POST /v1/chat/completions, JSON or SSE (``data: {...}`` chunks, then ``[DONE]``)."""

    model = "scripted-gpt"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def route(self, handler: BaseHTTPRequestHandler, method: str, request: RecordedRequest) -> None:
        path = request.path.split("?")[0]
        if method == "GET" and path.endswith("/models"):
            self._send_json(
                handler,
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": self.model, "object": "model", "created": 0, "owned_by": "tests"}
                    ],
                },
            )
            return
        if method != "POST" or not path.endswith("/chat/completions"):
            self._send_json(handler, 404, {"error": {"message": f"no route {path}"}})
            return
        reply = self.script(request.messages)
        created = int(time.time())
        if not request.body.get("stream"):
            self._send_json(
                handler,
                200,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": created,
                    "model": self.model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": reply},
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()

        def event(delta: dict[str, Any], finish: str | None) -> None:
            chunk = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()

        event({"role": "assistant", "content": ""}, None)
        for piece in pieces(reply):
            event({"content": piece}, None)
        event({}, "stop")
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()
        handler.close_connection = True


class OllamaServer(_LoopbackServer):
    """POST /api/chat (NDJSON streaming or one JSON), plus /api/show, /api/tags, /api/version."""

    model = "scripted-llama"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, handler: BaseHTTPRequestHandler, method: str, request: RecordedRequest) -> None:
        path = request.path.split("?")[0]
        now = "2024-10-11T12:00:00.000000Z"
        if path == "/api/version":
            self._send_json(handler, 200, {"version": "0.5.0"})
            return
        if path == "/api/tags":
            self._send_json(
                handler,
                200,
                {
                    "models": [
                        {
                            "name": self.model,
                            "model": self.model,
                            "modified_at": now,
                            "size": 1,
                            "digest": "0" * 64,
                            "details": {},
                        }
                    ]
                },
            )
            return
        if path == "/api/show":
            self._send_json(
                handler,
                200,
                {
                    "modelfile": "",
                    "parameters": "",
                    "template": "",
                    "details": {},
                    "model_info": {},
                    "capabilities": ["completion"],
                },
            )
            return
        if method != "POST" or path != "/api/chat":
            self._send_json(handler, 404, {"error": f"no route {path}"})
            return
        reply = self.script(request.messages)
        model = request.body.get("model", self.model)
        done = {
            "model": model,
            "created_at": now,
            "done": True,
            "done_reason": "stop",
            "total_duration": 1,
            "load_duration": 1,
            "prompt_eval_count": 1,
            "prompt_eval_duration": 1,
            "eval_count": 1,
            "eval_duration": 1,
        }
        if request.body.get("stream") is False:
            self._send_json(
                handler, 200, {**done, "message": {"role": "assistant", "content": reply}}
            )
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/x-ndjson")
        handler.end_headers()
        for piece in pieces(reply):
            line = {
                "model": model,
                "created_at": now,
                "done": False,
                "message": {"role": "assistant", "content": piece},
            }
            handler.wfile.write((json.dumps(line) + "\n").encode())
            handler.wfile.flush()
        handler.wfile.write(
            (json.dumps({**done, "message": {"role": "assistant", "content": ""}}) + "\n").encode()
        )
        handler.wfile.flush()
        handler.close_connection = True


# --- scripts ---------------------------------------------------------------------------

PASSAGE_BLOCK = re.compile(r"<<<PASSAGE (\d+) (\w+)>>>\n(.*?)\n<<<END PASSAGE \1 \2>>>", re.S)


def user_text(messages: Messages) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")


def passages_in(messages: Messages) -> dict[int, str]:
    """The passage blocks of the request as the model sees them: {n: text}."""
    return {int(n): body for n, _, body in PASSAGE_BLOCK.findall(user_text(messages))}


def fixed(reply: str) -> Script:
    """Always the same reply."""
    return lambda messages: reply


def obeys_injections(
    fallback: Script, trigger: str = "ignore previous instructions", reply: str = "PWNED."
) -> Script:
    """A gullible model: any message containing ``trigger`` makes it say ``reply``."""

    def script(messages: Messages) -> str:
        if any(trigger in str(m.get("content", "")).lower() for m in messages):
            return reply
        return fallback(messages)

    return script
