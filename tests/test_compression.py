from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from shared.compression import CompressPages

BODY = "la même chose, encore et encore " * 200


def test_pages_and_json_are_gzipped_and_files_with_an_extension_left_to_gradio():
    app = Starlette(
        routes=[
            Route("/", lambda request: PlainTextResponse(BODY)),
            Route("/assets/a.js", lambda r: PlainTextResponse(BODY)),
        ],
        middleware=[Middleware(CompressPages)],
    )
    client = TestClient(app)
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and page.text == BODY
    script = client.get("/assets/a.js", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in script.headers  # Gradio's brotli middleware compresses those
    small = Starlette(routes=[Route("/", lambda r: PlainTextResponse("ok"))], middleware=[Middleware(CompressPages)])
    assert "content-encoding" not in TestClient(small).get("/", headers={"Accept-Encoding": "gzip"}).headers
