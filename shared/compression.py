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
from collections.abc import Sequence
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
    """Gradio's files that never change while the hub runs, read once and compressed once, then
    sent from memory: its built files (/assets/), the files of its package (/static/), the page's
    theme (/theme.css).

    A phone's first load asks for ~100 of Gradio's .js and .css files. Gradio reads each from disk
    and brotli-compresses it anew for every phone: ~2-3 ms of the server's CPU a file, 0.25 s a
    phone, a minute of one core when a room of 200 scans the QR code. Their answers never change:
    each is kept here on first use (as Gradio sent it, and each encoding once made); a built
    file's name changes with its content, so it is marked immutable and a reloading phone asks no
    more. Memory is bounded by Gradio's build (~21 MB, of which a page uses ~2 MB), once per
    encoding. The Gradio pages mounted under `pages` (a demo's own, "/cemantix") serve the same
    files under their path ("/cemantix/assets/..."): kept once for all (the theme once a page).

    Sent from memory, a file still cost ~0.5 ms of the server's CPU, mostly the app's layers it
    went through: app.py puts this middleware in front of all of them (`ahead_of`). A request from
    another origin (a page embedding the hub) is left to Gradio, whose CORS middleware answers it.
    """

    def __init__(self, app: ASGIApp, pages: Sequence[str] = ()):
        self.app = app
        self.pages = tuple(pages)
        self.originals: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {}  # name -> (headers, body)
        self.encoded: dict[tuple[str, str], asyncio.Future[bytes]] = {}  # (name, encoding) -> body
        self.answers: dict[tuple[str, str], tuple[list[tuple[bytes, bytes]], bytes]] = {}  # ready to send

    @classmethod
    def ahead_of(cls, app, pages: Sequence[str] = ()) -> None:
        """Put KeepAssets in front of every layer of a Starlette `app` (its error handler, Gradio's
        Brotli and CORS middlewares, which Gradio adds outside the app's own middlewares), from
        within the app's lifespan: Starlette has built its layers (`middleware_stack`, 1.x) for the
        lifespan's own message. tests/test_demo_page.py pins it against the installed versions."""
        if app.middleware_stack is None:
            raise RuntimeError("KeepAssets.ahead_of is called from the app's lifespan, once its layers are built")
        app.middleware_stack = cls(app.middleware_stack, pages)

    def kept_name(self, scope: Scope) -> str | None:
        """The name its answer is kept under, or None when the request is not for such a file."""
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        path = scope["path"]
        page = next((page for page in self.pages if path.startswith(page + "/")), "")
        path = path[len(page) :]
        if path.startswith((ASSETS_PREFIX, "/static/")) and not scope.get("query_string"):
            return path  # the same file on every page
        if path == "/theme.css":  # ?v= names the theme's version
            return f"{page}{path}?{scope.get('query_string', b'').decode('latin-1')}"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = self.kept_name(scope)
        request = Headers(scope=scope) if name else None  # every API call passes here: only a test
        if request is None or "range" in request or not same_origin(scope, request):
            await self.app(scope, receive, send)
            return
        key = (name, chosen_encoding(request))
        if key not in self.answers:
            answer = await self.answer(name, key[1], scope, receive)
            if answer[0] != 200:  # a missing file, a refusal: Gradio's answer, not kept
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            self.answers[key] = answer[1:]
        headers, body = self.answers[key]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def answer(self, name: str, encoding: str, scope: Scope, receive: Receive) -> tuple[int, list, bytes]:
        """The file's answer in that encoding: read from Gradio once, encoded once."""
        if name not in self.originals:
            # Asked uncompressed: a mounted page's Gradio app compresses its answers itself.
            status, headers, body = await answer_of(self.app, uncompressed(scope), receive)
            if status != 200:
                return status, headers, body
            # Not Gradio's ETag: it names the file, and each encoding is a representation of its own.
            kept = [
                (header, value) for header, value in headers if header.lower() in (b"content-type", b"last-modified")
            ]
            self.originals.setdefault(name, (kept, body))
        headers, original = self.originals[name]
        body = original if encoding == "identity" else await self.encoded_body(name, original, encoding)
        headers = [*headers, (b"vary", b"Accept-Encoding")]
        if name.startswith(ASSETS_PREFIX):
            headers.append((b"cache-control", IMMUTABLE))
        if body is not original:
            headers.append((b"content-encoding", encoding.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        return 200, headers, body

    async def encoded_body(self, name: str, original: bytes, encoding: str) -> bytes:
        """The file in that encoding, made once in a worker thread (phones asking meanwhile wait
        for the same one); the original where encoding gains nothing (a tiny file)."""
        key = (name, encoding)
        if key not in self.encoded:
            self.encoded[key] = asyncio.ensure_future(anyio.to_thread.run_sync(encode, original, encoding))
        encoded = await self.encoded[key]
        return encoded if len(encoded) < len(original) else original


def same_origin(scope: Scope, request: Headers) -> bool:
    """Whether a request comes from a page of the address it was sent to, or names no origin: a
    browser sends Origin with every module script and style of Gradio's own page."""
    origin = request.get("origin")
    return origin is None or origin == f"{scope.get('scheme', 'http')}://{request.get('host', '')}"


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

    def __init__(self, app: ASGIApp, first_script: str = "", pages: Sequence[str] = ()):
        self.app = app
        # A script the page runs before Gradio's own code (put once into the kept page).
        self.first_script = first_script.encode()
        # The hub's page, and the Gradio pages mounted under `pages` ("/cemantix": its page is
        # "/cemantix/", its config "/cemantix/config"...).
        self.kept_pages = {page + path: read for page in ("", *pages) for path, read in KEPT_PAGES.items()}
        self.html_pages = {page + "/" for page in ("", *pages)}
        self.kept: OrderedDict[tuple, asyncio.Future[tuple[int, list, dict[str, bytes]]]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = page_key(scope, self.kept_pages)
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
        status, headers, body = await answer_of(self.app, uncompressed(scope), receive)
        kept = [
            (name, value)
            for name, value in headers
            if name.lower() not in (b"content-length", b"content-encoding", b"vary")
        ]
        if status == 200 and scope["path"] in self.html_pages and self.first_script:
            body = body.replace(b"<head>", b"<head>" + self.first_script, 1)
        bodies = {"identity": body}
        if status == 200:
            for encoding in ("br", "gzip"):
                bodies[encoding] = await anyio.to_thread.run_sync(encode, body, encoding)
        return status, kept, bodies


def page_key(scope: Scope, kept_pages: dict[str, tuple[bytes, ...]] = KEPT_PAGES) -> tuple | None:
    """What the answer to this request depends on, or None when it is not a kept page."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in kept_pages:
        return None
    read = kept_pages[scope["path"]]
    parameters = tuple(
        pair for pair in parse_qsl(scope.get("query_string", b""), keep_blank_values=True) if pair[0] in read
    )
    if any(name == b"deep_link" and value for name, value in parameters):
        return None
    address = tuple(sorted((name, value) for name, value in scope["headers"] if name in ADDRESS_HEADERS))
    server = tuple(scope.get("server") or ())
    return (scope["path"], parameters, address, scope.get("scheme"), server, scope.get("root_path", ""))


def uncompressed(scope: Scope) -> Scope:
    """The request, asking for no compression."""
    return {**scope, "headers": [(name, value) for name, value in scope["headers"] if name != b"accept-encoding"]}


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
