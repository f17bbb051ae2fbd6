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


def test_pages_are_rendered_once_per_address_and_a_forged_header_changes_nothing_for_others():
    from shared.compression import KeepPages

    rendered = []

    def page(request):
        rendered.append(request.url.path)
        root = request.headers.get("x-forwarded-host") or request.headers["host"]
        return PlainTextResponse(f"root: {root} " + BODY, media_type="text/html")

    app = Starlette(
        routes=[Route("/", page), Route("/config", page), Route("/gradio_api/queue/join", page, methods=["POST"])],
        middleware=[Middleware(KeepPages)],
    )
    client = TestClient(app, base_url="http://hub.local")
    for query in ("", "?tab=cemantix", "?tab=tokenizer&room=ABCD"):  # read by the page's scripts only
        answer = client.get("/" + query, headers={"Accept-Encoding": "gzip, br"})
        assert answer.headers["content-encoding"] == "br" and answer.text.startswith("root: hub.local ")
    assert rendered == ["/"]
    forged = client.get("/", headers={"X-Forwarded-Host": "evil.example", "Accept-Encoding": "gzip"})
    assert forged.text.startswith("root: evil.example ") and forged.headers["content-encoding"] == "gzip"
    other_host = client.get("/", headers={"Host": "other.example", "Accept-Encoding": "identity"})
    assert other_host.text.startswith("root: other.example ") and "content-encoding" not in other_host.headers
    again = client.get("/", headers={"Accept-Encoding": "identity"})
    assert again.text.startswith("root: hub.local ") and "content-encoding" not in again.headers
    assert rendered == ["/", "/", "/"]  # one render per address, each kept
    client.get("/config?page=")
    client.get("/config?page=&tab=x")
    client.get("/config?page=other")
    assert rendered.count("/config") == 2  # a parameter Gradio reads makes its own answer
    client.get("/?deep_link=abc")
    client.get("/?deep_link=abc")
    assert rendered.count("/") == 5  # one person's saved link: never kept
    client.post("/gradio_api/queue/join")
    client.post("/gradio_api/queue/join")
    assert rendered.count("/gradio_api/queue/join") == 2  # events are not pages


def test_gradios_page_depends_on_the_address_and_not_on_other_query_parameters():
    """What KeepPages relies on in the installed Gradio (routes.py's `main` and `get_config`): the
    root URL comes from the Host and X-Forwarded-* headers, and ?tab= changes nothing."""
    import gradio as gr
    import httpx

    with gr.Blocks() as blocks:
        gr.Textbox("bonjour")
    _, url, _ = blocks.launch(prevent_thread_lock=True, quiet=True)
    try:
        address = url.rstrip("/")  # http://127.0.0.1:PORT
        page = httpx.get(url).text
        assert f'"root":"{address}"' in page.replace(" ", "")
        assert httpx.get(url + "?tab=cemantix&room=ABCD").text == page
        forged = httpx.get(url, headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}).text
        assert '"root":"https://evil.example"' in forged.replace(" ", "")
        assert httpx.get(url + "config").json()["root"] == address
        forged_config = httpx.get(url + "config", headers={"X-Forwarded-Host": "evil.example"}).json()
        assert forged_config["root"] == "http://evil.example"
    finally:
        blocks.close()


def test_the_first_script_goes_first_in_the_kept_page_only():
    from shared.compression import KeepPages

    def page(request):
        return PlainTextResponse("<html><head><title>hub</title></head>" + BODY, media_type="text/html")

    app = Starlette(
        routes=[Route("/", page), Route("/config", page)],
        middleware=[Middleware(KeepPages, first_script="<script>first()</script>")],
    )
    client = TestClient(app)
    assert client.get("/").text.startswith("<html><head><script>first()</script><title>hub</title>")
    assert "first()" not in client.get("/config").text
