"""Compression of the hub's pages and JSON answers, which Gradio sends uncompressed.

Gradio compresses (brotli, on the fly) only the responses whose path ends in a text file's
extension: its .js and .css. The page itself ("/", which holds the config of every component:
~400 KB for the hub) and its JSON answers ("/config", "/gradio_api/info"...) have no extension and
went out as they were. This middleware gzips those, and only those, leaving Gradio's own files to
Gradio; event streams are never compressed (GZipMiddleware leaves text/event-stream alone).
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


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
