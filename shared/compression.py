"""What a phone's first load costs the server: the hub's pages and JSON answers, which Gradio
sends uncompressed, and Gradio's own files, which it compresses anew for every phone.

Gradio compresses (brotli, on the fly) only the responses whose path ends in a text file's
extension: its .js and .css. The page itself ("/", which holds the config of every component:
~400 KB for the hub) and its JSON answers ("/config", "/gradio_api/info"...) have no extension and
went out as they were. This middleware gzips those, and only those, leaving Gradio's own files to
Gradio; event streams are never compressed (GZipMiddleware leaves text/event-stream alone).
"""

from __future__ import annotations

import asyncio
import gzip

import anyio
import brotli
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CompressPages:
    def __init__(self, app: ASGIApp, minimum_size: int = 1024, compresslevel: int = 6):
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        last_part = scope.get("path", "").rsplit("/", 1)[-1]
        if scope["type"] == "http" and "." not in last_part:
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# Gradio's built files: under /assets/, named by a hash of their content (Vite's build).
ASSETS_PREFIX = "/assets/"
IMMUTABLE = b"public, max-age=31536000, immutable"
BROTLI_QUALITY = 9  # once per file: ~10 % smaller than Gradio's per-request quality 4, ~0.1 s a 1 MB file


class KeepAssets:
    """Gradio's built files, read once and compressed once, then sent from memory.

    A phone's first load asks for ~100 of Gradio's .js and .css files. Gradio reads each from disk
    and brotli-compresses it anew for every phone: ~2-3 ms of the server's CPU a file, 0.25 s a
    phone, a minute of one core when a room of 200 scans the QR code. Their names change with
    their content, so a name's answer never changes: it is kept here on first use (as Gradio sent
    it, and each encoding once made), and marked immutable so that a reloading phone asks no more.
    Memory is bounded by Gradio's build (~21 MB, of which a page uses ~2 MB), once per encoding.
    """

    def __init__(self, app: ASGIApp):
        self.app = app
        self.originals: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {}  # path -> (headers, body)
        self.encoded: dict[tuple[str, str], asyncio.Future[bytes]] = {}  # (path, encoding) -> body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_asset = scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(ASSETS_PREFIX)
        request = Headers(scope=scope) if is_asset else None  # every API call passes here: only a test
        if request is None or scope.get("query_string") or "range" in request:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path not in self.originals:
            status, headers, body = await self.answer_of_gradio(scope, receive)
            if status != 200:  # a missing file, a refusal: Gradio's answer, not kept
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            # Not Gradio's ETag: it names the file, and each encoding is a representation of its own.
            kept = [(name, value) for name, value in headers if name.lower() in (b"content-type", b"last-modified")]
            self.originals.setdefault(path, (kept, body))
        headers, original = self.originals[path]
        accepted = request.get("accept-encoding", "")
        encoding = "br" if "br" in accepted else "gzip" if "gzip" in accepted else "identity"
        body = original if encoding == "identity" else await self.encoded_body(path, original, encoding)
        headers = [*headers, (b"cache-control", IMMUTABLE), (b"vary", b"Accept-Encoding")]
        if body is not original:
            headers.append((b"content-encoding", encoding.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def answer_of_gradio(self, scope: Scope, receive: Receive) -> tuple[int, list, bytes]:
        start, chunks = {}, []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        return start["status"], list(start.get("headers", [])), b"".join(chunks)

    async def encoded_body(self, path: str, original: bytes, encoding: str) -> bytes:
        """The file in that encoding, made once in a worker thread (phones asking meanwhile wait
        for the same one); the original where encoding gains nothing (a tiny file)."""
        key = (path, encoding)
        if key not in self.encoded:
            self.encoded[key] = asyncio.ensure_future(anyio.to_thread.run_sync(encode, original, encoding))
        encoded = await self.encoded[key]
        return encoded if len(encoded) < len(original) else original


def encode(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
    return gzip.compress(body, compresslevel=9, mtime=0)
