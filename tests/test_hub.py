import html
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from shared.demo import DemoModule, import_demo
from shared.hub import Hub, is_host
from shared.hub_ui import notice_html, public_address
from shared.i18n import Texts, merge_for_gradio, request_language
from shared.settings import ALL_DEMOS, load_settings


def test_texts_must_exist_in_every_language():
    with pytest.raises(ValueError, match="greeting"):
        Texts(fr={"greeting": "Bonjour"}, en={})
    with pytest.raises(ValueError):
        Texts(fr={"greeting": "Bonjour"})


def test_two_demos_cannot_share_a_key():
    first = Texts(fr={"title": "A"}, en={"title": "A"})
    second = Texts(fr={"title": "B"}, en={"title": "B"})
    with pytest.raises(ValueError, match="title"):
        merge_for_gradio(first, second)


def test_every_mounted_text_is_translated():
    from shared.hub import TEXTS as HUB_TEXTS
    from spaces.tokenizer.ui import TEXTS as TOKENIZER_TEXTS

    merge_for_gradio(HUB_TEXTS, TOKENIZER_TEXTS)  # raises on a clash
    for texts in (HUB_TEXTS, TOKENIZER_TEXTS):
        for key, french in texts.by_language["fr"].items():
            assert french.strip() and texts.by_language["en"][key].strip(), key


@pytest.mark.parametrize(
    "cookies, accept_language, expected",
    [
        ({}, "", "fr"),
        ({}, "en-US,en;q=0.9", "en"),
        ({}, "de-DE,de;q=0.9,en;q=0.8,fr;q=0.9", "fr"),
        ({}, "de-DE", "fr"),
        ({"iagen_lang": "en"}, "fr-FR", "en"),
        ({"iagen_lang": "xx"}, "en", "en"),
    ],
)
def test_the_language_of_a_request(cookies, accept_language, expected):
    request = SimpleNamespace(cookies=cookies, headers={"accept-language": accept_language})
    assert request_language(request) == expected
    assert request_language(None) == "fr"


def test_the_qr_code_address():
    laptop = load_settings([], {})
    assert public_address(laptop, "127.0.0.1:7860") is None
    lecture = load_settings([], {"IAGEN_PROFILE": "lecture"})
    assert public_address(lecture, "192.168.1.20:7860") == "http://192.168.1.20:7860/"
    assert (
        public_address(load_settings([], {"IAGEN_PUBLIC_URL": "https://demo.ign.fr/"}), None) == "https://demo.ign.fr/"
    )


@pytest.mark.parametrize("name", ALL_DEMOS)
def test_every_demo_keeps_the_demo_contract(name):
    module = import_demo(f"spaces.{name}.ui")
    assert isinstance(module, DemoModule)
    assert f"{name}_tab" in module.TEXTS and f"{name}_about" in module.TEXTS
    for optional in ("prepare", "warm_up"):
        assert callable(getattr(module, optional, print)), f"{name}.{optional} is not a function"


def test_a_module_that_breaks_the_demo_contract_is_refused():
    with pytest.raises(TypeError, match="lacks TEXTS, CSS, build"):
        import_demo("shared.i18n")


def test_a_broken_demo_leaves_the_hub_up(settings):
    import json
    import urllib.request

    from gradio_client import Client
    from hub_server import hub_in_process

    demos = {"broken": "broken_demo", "missing": "no_such_module", "tokenizer": "spaces.tokenizer.ui"}
    with hub_in_process(Hub(settings), demos) as url:
        with urllib.request.urlopen(url + "config", timeout=10) as response:
            components = json.load(response)["components"]
        shown = " ".join(str(component.get("props", {}).get("value", "")) for component in components)
        assert "broken on purpose" in shown and "ModuleNotFoundError" in shown
        result = Client(url, verbose=False).predict(
            "Say 'hello' to my little friend!", "r50k_base", False, False, api_name="/tokenize"
        )
        assert result[2]["ids"] == [25515, 705, 31373, 6, 284, 616, 1310, 1545, 0]


def test_zerogpu_package_shares_our_spaces_name(tmp_path):
    """On a ZeroGPU Space, `spaces.GPU` (PyPI) and `spaces.tokenizer` (ours) must both import."""
    site = tmp_path / "site"
    (site / "spaces").mkdir(parents=True)
    (site / "spaces" / "__init__.py").write_text(
        textwrap.dedent("""
        def GPU(duration=60):
            def wrap(function):
                function.zerogpu_duration = duration
                return function
            return wrap
    """)
    )
    (site / "spaces-0.1.0.dist-info").mkdir()
    (site / "spaces-0.1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: spaces\nVersion: 0.1.0\n")
    script = textwrap.dedent("""
        import sys
        sys.path.append(sys.argv[1])
        from shared.gpu import gpu_task, load_zerogpu
        load_zerogpu()
        import spaces, spaces.tokenizer.logic
        @gpu_task(duration=30)
        def generate():
            return "image"
        print(spaces.GPU.__module__, generate.zerogpu_duration, spaces.tokenizer.logic.ENCODINGS["o200k_base"])
    """)
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script, str(site)],
        cwd=repo,
        capture_output=True,
        text=True,
        env={"SPACES_ZERO_GPU": "true", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["spaces", "30", "GPT-4o"]


def test_the_docs_document_every_setting_and_endpoint(settings):
    """docs/settings.md names every setting (variable and flag), docs/api.md every public endpoint."""
    from pathlib import Path

    from app import build_hub
    from shared.settings import ALL_DEMOS, OPTIONS

    docs = Path(__file__).resolve().parent.parent / "docs"
    settings_page = (docs / "settings.md").read_text()
    for option in OPTIONS:
        assert f"`{option.env}`" in settings_page and f"`{option.flag}`" in settings_page, option.name
    api_page = (docs / "api.md").read_text()
    blocks = build_hub(Hub(settings), {name: f"spaces.{name}.ui" for name in ALL_DEMOS}).blocks
    endpoints = {fn.api_name for fn in blocks.fns.values() if fn.api_visibility == "public"}
    assert "tokenize" in endpoints
    for endpoint in endpoints:
        assert f"`/{endpoint}`" in api_page, endpoint


def test_the_model_table_tells_missing_from_not_yet_loaded_and_gives_the_remedy_to_the_host_only(tmp_path):
    from shared.hub_ui import models_html

    settings = load_settings(
        [],
        {
            "IAGEN_CACHE_DIR": str(tmp_path),
            "HF_HUB_OFFLINE": "1",
            "IAGEN_MODEL_SEG2SAT_CONTROLNET": "example-org/not-in-the-cache",
        },
    )
    hub = Hub(settings)
    hub.models.get("gpt2_bpe:tokenizer", lambda: "loaded")
    hub.models.get("fr_word_vectors:vocabulary", lambda: "loaded")  # Cémantix's part
    hub.models.get("gemma3_270m:model", lambda: "loaded", size_bytes=536_300_000)

    def rows(table: str) -> dict[str, str]:
        cells = [row.split("</td><td>") for row in table.split("<tr><td>")[1:]]
        return {re.sub("<[^>]+>.*", "", model.removeprefix("<b>")): state for model, state in cells}

    for_a_student = rows(models_html(hub, "fr"))
    assert "tokeniseur : chargé (" in for_a_student["GPT-2 / GPT-3 BPE (r50k_base)"]
    assert "vocabulaire : chargé (" in for_a_student["Vecteurs de mots français (spaCy fr_core_news_md)"]
    assert "présent, pas encore chargé" in for_a_student["OpenAI cl100k_base, o200k_base"]
    assert "modèle : chargé (536\u00a0Mo, " in for_a_student["Gemma 3 270M"]  # French units
    assert "manquant" in for_a_student["ControlNet Seg2Sat (FLAIR)"]
    assert "prefetch" not in models_html(hub, "fr") and "example-org" not in models_html(hub, "fr")

    for_the_host = rows(models_html(hub, "en", for_host=True))
    assert "tokenizer: loaded (" in for_the_host["GPT-2 / GPT-3 BPE (r50k_base)"]
    assert "model: loaded (536\u00a0MB, " in for_the_host["Gemma 3 270M"]
    assert "python -m shared.prefetch seg2sat_controlnet" in for_the_host["Seg2Sat ControlNet (FLAIR)"]
    assert "hub: example-org/not-in-the-cache" in models_html(hub, "en", for_host=True)
    in_french = rows(models_html(hub, "fr", for_host=True))["ControlNet Seg2Sat (FLAIR)"]
    assert "Pour l'obtenir : python -m shared.prefetch seg2sat_controlnet (en ligne) ; ou faites pointer" in (
        html.unescape(in_french)
    )
    assert "not available" not in in_french  # the English message, with its reason, is the server log's


def test_starting_the_hub_imports_no_heavy_library_where_the_models_are_absent(tmp_path):
    """Start-up stays near `import gradio` alone: models and their libraries load on first use.
    What a laptop's start does: every tab built, the opening tab's warm-up (Seg2Sat's imported
    torch and diffusers to find its models absent: 3 s and 700 MB more), then what the pages hold
    computed once (the tokenizer's first tokens: its encoders only)."""
    script = textwrap.dedent("""
        import sys
        from app import build_hub
        from shared.hub import Hub
        from shared.settings import ALL_DEMOS, load_settings
        heavy = ("torch", "transformers", "diffusers", "open_clip", "faiss", "spacy", "bpe_openai", "tokenizers")
        hub = Hub(load_settings([]))
        built = build_hub(hub, {name: f"spaces.{name}.ui" for name in ALL_DEMOS})
        built.warm_ups[built.opening_tab](hub)
        print("built and warmed up:", *(name for name in heavy if name in sys.modules))
        hub.start()
        print("started:", *(name for name in heavy if name in sys.modules))
    """)
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "IAGEN_CACHE_DIR": str(tmp_path),
            "HF_HUB_OFFLINE": "1",
            "PATH": "/usr/bin:/bin",
            "HF_HOME": str(tmp_path / "hf"),
        },
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["built and warmed up:", "started: bpe_openai tokenizers"]


def test_only_a_visitor_at_the_server_itself_is_the_host():
    def visitor(address, **headers):
        return SimpleNamespace(client=SimpleNamespace(host=address), headers=headers)

    assert is_host(visitor("127.0.0.1")) and is_host(visitor("::1"))
    assert not is_host(visitor("192.168.1.23"))  # a phone in the room
    assert not is_host(visitor("127.0.0.1", **{"x-forwarded-for": "192.168.1.23"}))  # through a proxy
    assert not is_host(None) and not is_host(SimpleNamespace())


def test_a_notice_is_one_escaped_sentence():
    assert notice_html("") == ""
    shown = notice_html("Le modèle <b> manque")
    assert "&lt;b&gt;" in shown and 'class="hub-notice"' in shown


def test_every_catalogue_model_has_a_name_in_each_language():
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.weights import CATALOGUE

    assert {f"model_{key}" for key in CATALOGUE} <= set(HUB_TEXTS.by_language["fr"])


def test_the_hubs_queue_tells_each_waiting_call_its_place_once_a_second():
    """Gradio's default tells every waiting call its place each time any call starts: with 100
    waiting, 100 messages a start, which kept a busy hub from catching up (docs/architecture.md)."""
    from hub_server import free_port

    import app

    flags = ["--port", str(free_port()), "--host", "127.0.0.1", "--demos", "tokenizer"]
    server, _, _ = app.launch(load_settings(flags, {}), prevent_thread_lock=True)
    try:
        queue = server.get_blocks()._queue
        assert not queue.live_updates and queue.update_intervals == 1
    finally:
        server.get_blocks().close()
