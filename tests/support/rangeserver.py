"""A real HTTP file server on 127.0.0.1 with Range support, for the acquisition tests.

It serves a folder like an archive.org mirror (`BASE/<site>.7z`), answers `Range: bytes=N-`
with 206, records every request, and can drop the connection half-way through a file the first
time it is asked for it — the failure `pipeline.acquire` must resume from. Like archive.org it
sends an ETag (derived from the file's bytes, so replacing a file changes it) and honours
`If-Range`: a Range whose validator no longer matches gets the whole file with 200.
`validators = False` makes it send neither ETag nor Last-Modified.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class RangeServer:
    """Start with `start()`, stop with `stop()`; `requests` lists (path, Range header or None), and
    `if_ranges` the If-Range header of each request (or None)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.requests: list[tuple[str, str | None]] = []
        self.if_ranges: list[str | None] = []
        self.drop_once: set[str] = set()
        self.validators = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # polls for shutdown every 50 ms (the default 0.5 s made each test's teardown wait half a second)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "RangeServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[SimpleHTTPRequestHandler]:
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)

            def log_message(self, format: str, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                server.requests.append((name, self.headers.get("Range")))
                server.if_ranges.append(self.headers.get("If-Range"))
                target = server.root / name
                if not target.is_file():
                    self.send_error(404)
                    return
                data = target.read_bytes()
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                start = _range_start(self.headers.get("Range"))
                if_range = self.headers.get("If-Range")
                if start and if_range is not None and (not server.validators or if_range != etag):
                    start = 0  # the file changed since the client's copy (or no validator was ever sent): all of it
                if start >= len(data) and start:
                    self.send_error(416)
                    return
                body = data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                if server.validators:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", self.date_time_string(int(target.stat().st_mtime)))
                self.end_headers()
                if name in server.drop_once:
                    server.drop_once.discard(name)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        return Handler


def _range_start(header: str | None) -> int:
    if not header or not header.startswith("bytes="):
        return 0
    return int(header[len("bytes="):].split("-")[0] or 0)
