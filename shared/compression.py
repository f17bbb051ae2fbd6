"""What a phone's first load costs the server: the hub's pages and JSON answers, which Gradio
sends uncompressed, and Gradio's own files, which it compresses anew for every phone.

Gradio compresses (brotli, on the fly) only the responses whose path ends in a text file's
extension: its .js and .css. The page itself ("/", which holds the config of every component:
~400 KB for the hub) and its JSON answers ("/config", "/gradio_api/info"...) have no extension and
went out as they were. This middleware gzips those, and only those, leaving Gradio's own files to
Gradio; event streams are never compressed (GZipMiddleware leaves text/event-stream alone).

KeepPages goes further for the page, /config and the API info: they are the same for everyone who
reaches the hub by the same address, so each is rendered by Gradio once per distinct input and
its compressed bytes are sent from then on.
"""

from __future__ import annotations

import asyncio
import gzip
from collections import OrderedDict
from urllib.parse import parse_qsl

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
            status, headers, body = await answer_of(self.app, scope, receive)
            if status != 200:  # a missing file, a refusal: Gradio's answer, not kept
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            # Not Gradio's ETag: it names the file, and each encoding is a representation of its own.
            kept = [(name, value) for name, value in headers if name.lower() in (b"content-type", b"last-modified")]
            self.originals.setdefault(path, (kept, body))
        headers, original = self.originals[path]
        encoding = chosen_encoding(request)
        body = original if encoding == "identity" else await self.encoded_body(path, original, encoding)
        headers = [*headers, (b"cache-control", IMMUTABLE), (b"vary", b"Accept-Encoding")]
        if body is not original:
            headers.append((b"content-encoding", encoding.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def encoded_body(self, path: str, original: bytes, encoding: str) -> bytes:
        """The file in that encoding, made once in a worker thread (phones asking meanwhile wait
        for the same one); the original where encoding gains nothing (a tiny file)."""
        key = (path, encoding)
        if key not in self.encoded:
            self.encoded[key] = asyncio.ensure_future(anyio.to_thread.run_sync(encode, original, encoding))
        encoded = await self.encoded[key]
        return encoded if len(encoded) < len(original) else original


# What Gradio's routes read from a request to render the page ("/"), /config and the API info
# (gradio 6.31, routes.py: `main`, `get_config`, `api_info`; route_utils.get_root_url): the query
# parameters each takes, and the address the request came by (its Host, the proxy's headers, the
# scheme, the mount path). Nothing else of a request changes their bytes: `?tab=`, `?room=` are read
# by the page's scripts. The hub has no login; with one, these answers would depend on the user and
# could not be kept. tests/test_compression.py pins this against the installed Gradio.
KEPT_PAGES = {
    "/": (b"page", b"deep_link"),
    "/config": (b"page", b"deep_link"),
    "/config/": (b"page", b"deep_link"),
    "/gradio_api/info": (b"page", b"all_endpoints"),
    "/gradio_api/info/": (b"page", b"all_endpoints"),
}
ADDRESS_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server")
# Answers kept, the least recently asked dropped first: a handful of addresses in real use, and a
# bound on what forged headers can make the hub keep.
PAGES_KEPT = 64


class KeepPages:
    """The page, /config and the API info, rendered by Gradio once per distinct input (the address
    a request came by, the query parameters Gradio reads), compressed once, then sent as bytes.

    Gradio deep-copies the whole config for every page request, rewrites every URL in it and
    serialises it: ~90 ms of the server's CPU for the hub's page, times every phone of a room (and
    ~135 ms for a gradio_client connecting, which asks for /config and the API info). These
    answers change only with their inputs, which form the key: a request with a forged Host or
    X-Forwarded-* header gets an answer of its own, never what other phones get. A saved deep
    link (?deep_link=) is one person's: left to Gradio.
    """

    def __init__(self, app: ASGIApp, first_script: str = ""):
        self.app = app
        # A script the page runs before Gradio's own code (put once into the kept page).
        self.first_script = first_script.encode()
        self.kept: OrderedDict[tuple, asyncio.Future[tuple[int, list, dict[str, bytes]]]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = page_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if key in self.kept:
            self.kept.move_to_end(key)
        else:
            if len(self.kept) >= PAGES_KEPT:
                self.kept.popitem(last=False)
            self.kept[key] = asyncio.ensure_future(self.render(scope, receive))
        answer = self.kept[key]
        try:
            status, headers, bodies = await asyncio.shield(answer)
        except Exception:
            self.kept.pop(key, None)  # the next request tries again
            raise
        if status != 200:  # an error is Gradio's to send, and not kept
            self.kept.pop(key, None)
            bodies = {"identity": bodies["identity"]}
        encoding = chosen_encoding(Headers(scope=scope))
        body = bodies.get(encoding)
        if body is None or len(body) >= len(bodies["identity"]):
            encoding, body = "identity", bodies["identity"]
        headers = [*headers, (b"vary", b"Accept-Encoding"), (b"content-length", str(len(body)).encode())]
        if encoding != "identity":
            headers.append((b"content-encoding", encoding.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def render(self, scope: Scope, receive: Receive) -> tuple[int, list, dict[str, bytes]]:
        """Gradio's answer, asked uncompressed, and its compressed forms (made in a worker thread)."""
        plain_scope = {
            **scope,
            "headers": [(name, value) for name, value in scope["headers"] if name != b"accept-encoding"],
        }
        status, headers, body = await answer_of(self.app, plain_scope, receive)
        kept = [
            (name, value)
            for name, value in headers
            if name.lower() not in (b"content-length", b"content-encoding", b"vary")
        ]
        if status == 200 and scope["path"] == "/" and self.first_script:
            body = body.replace(b"<head>", b"<head>" + self.first_script, 1)
        bodies = {"identity": body}
        if status == 200:
            for encoding in ("br", "gzip"):
                bodies[encoding] = await anyio.to_thread.run_sync(encode, body, encoding)
        return status, kept, bodies


def page_key(scope: Scope) -> tuple | None:
    """What the answer to this request depends on, or None when it is not a kept page."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in KEPT_PAGES:
        return None
    read = KEPT_PAGES[scope["path"]]
    parameters = tuple(
        pair for pair in parse_qsl(scope.get("query_string", b""), keep_blank_values=True) if pair[0] in read
    )
    if any(name == b"deep_link" and value for name, value in parameters):
        return None
    address = tuple(sorted((name, value) for name, value in scope["headers"] if name in ADDRESS_HEADERS))
    server = tuple(scope.get("server") or ())
    return (scope["path"], parameters, address, scope.get("scheme"), server, scope.get("root_path", ""))


async def answer_of(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list, bytes]:
    """The whole answer of `app` to a request: status, headers, body."""
    start, chunks = {}, []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


def chosen_encoding(headers: Headers) -> str:
    accepted = headers.get("accept-encoding", "")
    return "br" if "br" in accepted else "gzip" if "gzip" in accepted else "identity"


def encode(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
    return gzip.compress(body, compresslevel=9, mtime=0)
