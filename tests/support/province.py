"""A fake province look-up service on loopback: answers `GET /lookup?code=` the way the contract says,
or fails on demand (HTTP 500, too slow), and counts the requests it saw."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeProvince:
    def __init__(self) -> None:
        self.dossiers: dict[str, dict[str, Any]] = {}
        self.mode = "ok"  # "ok" | "error" (HTTP 500) | "slow" (answers after `delay_s`) | "garbage"
        self.delay_s = 10.0
        self.seen: list[str] = []
        province = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                code = (parse_qs(url.query).get("code") or [""])[0]
                province.seen.append(code)
                if province.mode == "slow":
                    time.sleep(province.delay_s)
                if province.mode == "error":
                    return self._send(500, {"error": "database down"})
                if province.mode == "garbage":
                    return self._send(200, ["not", "a", "status"])
                found = province.dossiers.get(code)
                if found is None:
                    return self._send(404, {"error": "unknown"})
                return self._send(200, {"code": code, **found})

            def _send(self, status: int, body: Any) -> None:
                raw = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:  # the caller gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/lookup"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-province", daemon=True)

    def __enter__(self) -> FakeProvince:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
