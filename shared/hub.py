"""What the hub gives every demo, and the hub's own texts.

`Hub` bundles the settings, the weight sources and the model cache; `app.py` makes one and passes
it to each demo's `build(hub)`, so a demo's dependencies are explicit and tests can give it theirs.
Gradio-free; the hub's panels are in shared/hub_ui.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from shared.i18n import Texts
from shared.model_cache import LOADED, ModelCache
from shared.settings import Settings
from shared.weights import WeightSources

Model = TypeVar("Model")

TEXTS = Texts(
    fr={
        "hub_title": "# Comprendre l'IA générative — démos",
        "hub_subtitle": "Des démonstrations à manipuler du cours « Comprendre l'IA générative » (IGN).",
        "tab_about": "À propos",
        "about_language": "Langue : **Paramètres** en bas de page → *Language* (English available).",
        "about_qr_heading": "### Ouvrir sur un téléphone",
        "about_loopback_only": "Le hub n'est servi que sur cet ordinateur. Pour une salle de cours, lancez-le avec IAGEN_PROFILE=lecture : il écoute alors sur le réseau local.",
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
        "state_not_loaded": "présent, pas encore chargé",
        "demo_failed": "Cette démo n'a pas pu démarrer ; les autres onglets fonctionnent. Le détail ci-dessous aide à la réparer.",
        "loading_model": "Chargement de {model} (première utilisation)…",
        "queue_full": "Le serveur est très sollicité : réessayez dans un instant.",
    },
    en={
        "hub_title": "# Understanding generative AI — demos",
        "hub_subtitle": "Hands-on demos of the course “Comprendre l'IA générative” (IGN).",
        "tab_about": "About",
        "about_language": "Language: **Settings** at the bottom of the page → *Language* (français disponible).",
        "about_qr_heading": "### Open on a phone",
        "about_loopback_only": "The hub is served on this computer only. For a lecture hall, start it with IAGEN_PROFILE=lecture: it then listens on the local network.",
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
        "state_not_loaded": "available, not loaded yet",
        "demo_failed": "This demo could not start; the other tabs work. The detail below helps to fix it.",
        "loading_model": "Loading {model} (first use)…",
        "queue_full": "The server is very busy: please try again in a moment.",
    },
)


def is_host(request: object | None) -> bool:
    """Whether a visitor is the person at the server itself (a browser on loopback, with no proxy
    between): they get ids, commands and variables; a phone in the room never does."""
    client = getattr(request, "client", None)
    address = getattr(client, "host", None) or ""
    headers = getattr(request, "headers", None) or {}
    behind_proxy = any(name in headers for name in ("x-forwarded-for", "forwarded", "x-real-ip"))
    return (address.startswith("127.") or address in ("::1", "localhost")) and not behind_proxy


@dataclass
class Hub:
    settings: Settings
    weights: WeightSources = field(init=False)
    models: ModelCache = field(init=False)

    def __post_init__(self):
        self.weights = WeightSources(self.settings)
        self.models = ModelCache(int(self.settings.memory_budget_gb * 1e9))

    def load_model(
        self,
        key: str,
        loader: Callable[[], Model],
        progress: Callable | None = None,
        language: str = "fr",
        size_bytes: int | None = None,
    ) -> Model:
        """The shared model `key`; on a first use, `progress` (a gr.Progress) tells the user."""
        status = self.models.status(key)
        if progress is not None and (status is None or status.state != LOADED):
            title = self.weights.source(key).title if key in self.weights.catalogue else key
            progress(None, desc=TEXTS.get("loading_model", language, model=title))
        return self.models.get(key, loader, size_bytes=size_bytes)
