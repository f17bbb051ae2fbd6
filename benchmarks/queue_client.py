"""A light client of Gradio's queue: what a phone's page sends for one event, and nothing more.

A browser page sends an event as two requests: POST /gradio_api/queue/join (the inputs, the
event's function, the page's session hash), then GET /gradio_api/queue/data?session_hash=…, an
event stream that says when the event starts and ends, with its outputs. `QueueSession` does
exactly that on a shared httpx.AsyncClient, with a session hash of its own: the server keeps its
gr.State per session, as it does for a phone. A streaming event (a generator: the chat, a
generation) sends a `process_generating` message per yield before its `process_completed`:
`call_timed` says when the first of them came, what a phone sees first (its first token). Unlike gradio_client (a configuration and API
download per client, two polling threads per call), a hundred of these cost the load generator a
few percent of a core, so a load run measures the hub rather than itself.

`Endpoints.fetch(http)` reads the hub's configuration once per process: each named endpoint's
function index and where its gr.State inputs go (the page sends null there; the server fills
them in from the session).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


class CallFailed(Exception):
    """The hub answered the call with an error (its message), or did not answer it."""


@dataclass(frozen=True)
class Endpoint:
    fn_index: int
    inputs: int  # how many inputs the page sends, gr.State ones included
    state_positions: tuple[int, ...]  # where the page sends null for a gr.State
    file_positions: tuple[int, ...]  # inputs that take an uploaded file


@dataclass(frozen=True)
class Answer:
    outputs: list  # the endpoint's outputs (gr.State outputs included, as the page receives them)
    first_output_at: float | None  # time.monotonic() of its first streamed output; None: it streamed none


@dataclass(frozen=True)
class Endpoints:
    by_name: dict[str, Endpoint]

    @staticmethod
    async def fetch(http: httpx.AsyncClient) -> Endpoints:
        config = (await http.get("/config")).raise_for_status().json()
        kinds = {component["id"]: component["type"] for component in config["components"]}
        by_name = {}
        for index, dependency in enumerate(config["dependencies"]):
            name = dependency.get("api_name")
            if not name or dependency.get("api_visibility", "public") == "private":
                continue
            inputs = dependency["inputs"]
            by_name[f"/{name}"] = Endpoint(
                fn_index=dependency.get("id", index),
                inputs=len(inputs),
                state_positions=tuple(i for i, c in enumerate(inputs) if kinds.get(c) == "state"),
                file_positions=tuple(i for i, c in enumerate(inputs) if kinds.get(c) in ("image", "file")),
            )
        return Endpoints(by_name)


class QueueSession:
    """One phone's session: its calls go through the queue as the page's would."""

    def __init__(self, http: httpx.AsyncClient, endpoints: Endpoints):
        self.http = http
        self.endpoints = endpoints
        self.session_hash = secrets.token_hex(6)

    async def call(self, api_name: str, *args) -> list:
        """The endpoint's outputs (gr.State outputs included, as the page receives them)."""
        return (await self.call_timed(api_name, *args)).outputs

    async def call_timed(self, api_name: str, *args) -> Answer:
        """The endpoint's outputs, and when its first streamed output came."""
        endpoint = self.endpoints.by_name[api_name]
        data = list(args)
        for position in endpoint.state_positions:
            data.insert(position, None)
        if len(data) != endpoint.inputs:
            raise ValueError(f"{api_name} takes {endpoint.inputs - len(endpoint.state_positions)} arguments")
        for position in endpoint.file_positions:
            if isinstance(data[position], Path):
                data[position] = await self.upload(data[position])
        body = {"data": data, "fn_index": endpoint.fn_index, "session_hash": self.session_hash, "event_data": None}
        joined = await self.http.post("/gradio_api/queue/join", json=body)
        if joined.status_code != 200:
            raise CallFailed(f"join {joined.status_code}: {joined.text[:80]}")
        return await self.outputs_of(joined.json()["event_id"])

    async def outputs_of(self, event_id: str) -> Answer:
        params = {"session_hash": self.session_hash}
        first_output_at = None
        async with self.http.stream("GET", "/gradio_api/queue/data", params=params) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                if message.get("event_id") != event_id and kind not in ("unexpected_error", "close_stream"):
                    continue
                if kind == "process_generating" and first_output_at is None:
                    first_output_at = time.monotonic()
                if kind == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success", False):
                        raise CallFailed(str(output.get("error") or output)[:100])
                    return Answer(output.get("data", []), first_output_at)
                if kind in ("unexpected_error", "close_stream"):
                    raise CallFailed(f"{kind}: {str(message.get('message', ''))[:80]}")
        raise CallFailed("the event stream ended before the call did")

    async def upload(self, path: Path) -> dict:
        files = {"files": (path.name, path.read_bytes())}
        answer = (await self.http.post("/gradio_api/upload", files=files)).raise_for_status()
        return {"path": answer.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
