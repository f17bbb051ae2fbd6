"""What the hub gives every demo, and the hub's own panels (À propos, a demo's error panel).

`Hub` bundles the settings, the weight sources and the model cache; `app.py` makes one and passes
it to each demo's `build(hub)`, so a demo's dependencies are explicit and tests can give it theirs.
"""

from __future__ import annotations

import html
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from shared.i18n import Texts, request_language
from shared.model_cache import LOADED, ModelCache
from shared.settings import Settings
from shared.weights import WeightSources

log = logging.getLogger(__name__)
Model = TypeVar("Model")

TEXTS = Texts(
    fr={
        "hub_title": "Comprendre l'IA générative — démos",
        "hub_subtitle": "Des démonstrations à manipuler du cours « Comprendre l'IA générative » (IGN).",
        "tab_tokenizer": "Tokenisation",
        "tab_about": "À propos",
        "about_tokenizer": "**Tokenisation** — du texte aux tokens puis aux identifiants, pour GPT-3, GPT-4, GPT-4o et nos modèles : le français coûte plus de tokens que l'anglais.",
        "about_language": "Langue : **Paramètres** en bas de page → *Language* (English available).",
        "about_qr_heading": "### Ouvrir sur un téléphone",
        "about_loopback_only": "Le hub n'est servi que sur cet ordinateur. Pour une salle de cours : `IAGEN_PROFILE=lecture make run` (écoute sur le réseau local).",
        "about_models_heading": "### Modèles",
        "about_models_refresh": "Actualiser",
        "models_column_model": "Modèle",
        "models_column_state": "État",
        "models_column_origin": "Origine",
        "models_column_licence": "Licence",
        "state_loaded": "chargé",
        "state_loading": "chargement…",
        "state_missing": "manquant",
        "state_failed": "erreur",
        "state_evicted": "libéré (mémoire)",
        "state_not_loaded": "pas encore chargé",
        "demo_failed": "Cette démo n'a pas pu démarrer ; les autres onglets fonctionnent. Le détail ci-dessous aide à la réparer.",
        "loading_model": "Chargement de {model} (première utilisation)…",
        "queue_full": "Le serveur est très sollicité : réessayez dans un instant.",
    },
    en={
        "hub_title": "Understanding generative AI — demos",
        "hub_subtitle": "Hands-on demos of the course “Comprendre l'IA générative” (IGN).",
        "tab_tokenizer": "Tokenization",
        "tab_about": "About",
        "about_tokenizer": "**Tokenization** — text to tokens to ids, for GPT-3, GPT-4, GPT-4o and our models: French costs more tokens than English.",
        "about_language": "Language: **Settings** at the bottom of the page → *Language* (français disponible).",
        "about_qr_heading": "### Open on a phone",
        "about_loopback_only": "The hub is served on this computer only. For a lecture hall: `IAGEN_PROFILE=lecture make run` (listens on the local network).",
        "about_models_heading": "### Models",
        "about_models_refresh": "Refresh",
        "models_column_model": "Model",
        "models_column_state": "State",
        "models_column_origin": "Source",
        "models_column_licence": "Licence",
        "state_loaded": "loaded",
        "state_loading": "loading…",
        "state_missing": "missing",
        "state_failed": "error",
        "state_evicted": "released (memory)",
        "state_not_loaded": "not loaded yet",
        "demo_failed": "This demo could not start; the other tabs work. The detail below helps to fix it.",
        "loading_model": "Loading {model} (first use)…",
        "queue_full": "The server is very busy: please try again in a moment.",
    },
)


@dataclass
class Hub:
    settings: Settings
    weights: WeightSources = field(init=False)
    models: ModelCache = field(init=False)

    def __post_init__(self):
        self.weights = WeightSources(self.settings)
        self.models = ModelCache(int(self.settings.memory_budget_gb * 1e9))

    def load_model(self, key: str, loader: Callable[[], Model], progress: Callable | None = None,
                   language: str = "fr", size_bytes: int | None = None) -> Model:
        """The shared model `key`; on a first use, `progress` (a gr.Progress) tells the user."""
        status = self.models.status(key)
        if progress is not None and (status is None or status.state != LOADED):
            title = self.weights.source(key).title if key in self.weights.catalogue else key
            progress(None, desc=TEXTS.get("loading_model", language, model=title))
        return self.models.get(key, loader, size_bytes=size_bytes)


def public_address(settings: Settings, request_host: str | None) -> str | None:
    """The address a phone in the room can open, or None when the hub is served on loopback only."""
    if settings.public_url:
        return settings.public_url
    if os.environ.get("SPACE_HOST"):
        return "https://" + os.environ["SPACE_HOST"]
    if not settings.serves_beyond_loopback:
        return None
    host = (request_host or "").rsplit(":", 1)[0].strip("[]")
    if host and not host.startswith("127.") and host not in ("localhost", "::1", "0.0.0.0"):
        return f"http://{request_host}/"
    try:  # the speaker opened it on loopback: guess this machine's address on the local network
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        return None
    return None if address.startswith("127.") else f"http://{address}:{settings.port}/"


def qr_code_svg(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    return image.to_string(encoding="unicode")


def build_about(hub: Hub, demos: tuple[str, ...], blocks) -> None:
    """The À propos tab: what each demo shows, a QR code of the hub, the models' states."""
    import gradio as gr

    for name in demos:
        if f"about_{name}" in TEXTS:
            gr.Markdown(TEXTS.label(f"about_{name}"))
    gr.Markdown(TEXTS.label("about_language"))
    gr.Markdown(TEXTS.label("about_qr_heading"))
    qr_code = gr.HTML(elem_id="hub-qr-code")
    gr.Markdown(TEXTS.label("about_models_heading"))
    models_table = gr.HTML()
    refresh = gr.Button(TEXTS.label("about_models_refresh"), size="sm")

    def show_models(request: gr.Request):
        return models_html(hub, request_language(request))

    refresh.click(show_models, None, models_table, api_name="model_status")

    def on_load(request: gr.Request):
        language = request_language(request)
        address = public_address(hub.settings, request.headers.get("host"))
        if address is None:
            panel = f"<p>{html.escape(TEXTS.get('about_loopback_only', language))}</p>"
        else:
            panel = (f'<div class="hub-qr">{qr_code_svg(address)}'
                     f'<p><a href="{html.escape(address)}">{html.escape(address)}</a></p></div>')
        return panel, models_html(hub, language)

    blocks.load(on_load, None, [qr_code, models_table], api_name=False)


def models_html(hub: Hub, language: str) -> str:
    """Every catalogue model with the state of what was loaded from it. Cache keys are the
    catalogue key, optionally followed by ":part" (a tokenizer, a converted copy...)."""
    statuses = hub.models.statuses()
    columns = ("models_column_model", "models_column_state", "models_column_origin", "models_column_licence")
    rows = ["<tr>" + "".join(f"<th>{html.escape(TEXTS.get(c, language))}</th>" for c in columns) + "</tr>"]
    for key in hub.weights.catalogue:
        source = hub.weights.source(key)
        parts = [status for status in statuses if status.key.split(":")[0] == key]
        state = "; ".join(_describe(status, language) for status in parts) or TEXTS.get("state_not_loaded", language)
        cells = (source.title, state, source.origin, source.licence)
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    return f'<table class="hub-models">{"".join(rows)}</table>'


def _describe(status, language: str) -> str:
    text = TEXTS.get(f"state_{status.state}", language)
    if ":" in status.key:
        text = f"{status.key.split(':', 1)[1]} {text}"
    if status.state == LOADED:
        text += f" ({status.size_bytes / 1e6:.0f} MB, {status.load_seconds:.1f} s)"
    return f"{text} — {status.reason}" if status.reason else text


def build_error_panel(name: str, error: BaseException) -> None:
    """What a tab shows when its demo failed to import or build; the hub stays up."""
    import gradio as gr

    log.exception("demo %s failed to start", name, exc_info=error)
    detail = html.escape(f"{type(error).__name__}: {error}")
    gr.Markdown(TEXTS.label("demo_failed"), elem_classes=["hub-error-panel"])
    gr.HTML(f'<pre class="hub-error-detail">{detail}</pre>')
