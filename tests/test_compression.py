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


def test_gradios_files_are_read_once_compressed_once_and_marked_immutable():
    from shared.compression import KeepAssets

    served = []

    def script(request):
        served.append(request.url.path)
        return PlainTextResponse(BODY, media_type="text/javascript")

    app = Starlette(
        routes=[
            Route("/assets/index-abc123.js", script),
            Route("/assets/tiny-abc123.css", lambda r: PlainTextResponse("a{}", media_type="text/css")),
            Route("/", lambda r: PlainTextResponse(BODY)),
        ],
        middleware=[Middleware(KeepAssets)],
    )
    client = TestClient(app)
    for _ in range(3):
        answer = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip, br"})
        assert answer.headers["content-encoding"] == "br" and answer.headers["content-type"].startswith(
            "text/javascript"
        )
        assert answer.text == BODY  # decoded by the client
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    gzipped = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip" and gzipped.text == BODY
    plain = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == BODY
    assert served == ["/assets/index-abc123.js"]  # read from the app once, for every encoding
    tiny = client.get("/assets/tiny-abc123.css", headers={"Accept-Encoding": "br"})
    assert "content-encoding" not in tiny.headers and tiny.text == "a{}"  # compressing gains nothing
    missing = client.get("/assets/gone-abc123.js")
    assert missing.status_code == 404 and "cache-control" not in missing.headers  # not kept
    assert "cache-control" not in client.get("/").headers  # pages are not Gradio's files
