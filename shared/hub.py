"""What the hub gives every demo, and the hub's own texts.

`Hub` bundles the settings, the weight sources and the model cache; `app.py` makes one and passes
it to each demo's `build(hub)`, so a demo's dependencies are explicit and tests can give it theirs.
Gradio-free; the hub's panels are in shared/hub_ui.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from shared.i18n import PageTexts, Texts
from shared.model_cache import LOADED, ModelCache
from shared.settings import Settings
from shared.weights import WeightSources

Model = TypeVar("Model")
log = logging.getLogger(__name__)

TEXTS = Texts(
    fr={
        "hub_title": "# Comprendre l'IA générative — démos",
        "hub_subtitle": "Des démonstrations à manipuler du cours « Comprendre l'IA générative » (IGN).",
        "tab_about": "À propos",
        "about_language": "Langue : **Paramètres** en bas de page → *Langue* → *English*.",
        "about_qr_heading": "Ouvrir sur un téléphone",
        "about_loopback_only": "Le hub n'écoute que sur {host}, l'adresse de cet ordinateur pour lui-même : aucun téléphone ne peut le joindre. Pour une salle de cours, relancez-le avec IAGEN_HOST=0.0.0.0 (ou --host 0.0.0.0) : il écoute alors sur le réseau local.",
        "about_models_heading": "### Modèles",
        "about_models_refresh": "Actualiser",
        "about_models_on_first_use": "Chaque modèle se charge à sa première utilisation.",
        "about_ready": "Prêt : tous les modèles sont chargés ({seconds} s).",
        "about_ready_but": "Prêt ({seconds} s), sauf ce qui manque sur ce serveur : {missing}.",
        "models_column_model": "Modèle",
        "models_column_state": "État",
        "part_state": "{part} : {state}",
        "megabytes": "{size}\u00a0Mo",
        "part_tokenizer": "tokeniseur",
        "part_model": "modèle",
        "part_pipeline": "pipeline",
        "part_index": "index",
        "part_vocabulary": "vocabulaire",
        "model_gpt2_bpe": "GPT-2 / GPT-3 BPE (r50k_base)",
        "model_openai_encodings": "OpenAI cl100k_base, o200k_base",
        "model_smollm2_135m_instruct": "SmolLM2-135M-Instruct",
        "model_gemma3_270m": "Gemma 3 270M",
        "model_luth_0_6b_instruct": "Luth-0.6B-Instruct (Qwen3-0.6B entraîné en français)",
        "model_qwen3_0_6b": "Qwen3-0.6B",
        "model_qwen3_0_6b_base": "Qwen3-0.6B-Base",
        "model_injection_classifier": "Classifieur d'injection de prompt (DeBERTa-v3, Protect AI)",
        "model_fr_word_vectors": "Vecteurs de mots français (spaCy fr_core_news_md)",
        "model_en_word_vectors": "Vecteurs de mots anglais (GloVe 6B 50d)",
        "model_word_frequencies": "Fréquences des mots (wordfreq)",
        "model_seg2sat_controlnet": "ControlNet Seg2Sat (FLAIR)",
        "model_sd21_base": "Stable Diffusion 2.1 base",
        "model_taesd": "TAESD (aperçus des étapes de Seg2Sat)",
        "model_tcd_lora": "LoRA TCD (Seg2Sat distillé en 4 étapes)",
        "model_clip_encoder": "RS-M-CLIP (CLIP multilingue pour la télédétection)",
        "model_clip_text_tower": "XLM-RoBERTa base (lecteur de texte de RS-M-CLIP)",
        "model_flair_gallery": "Images aériennes FLAIR #1 et leurs légendes (IGN)",
        "state_loaded": "chargé",
        "state_loading": "chargement…",
        "state_missing": "manquant",
        "remedy": "Pour l'obtenir : {commands} ; ou faites pointer {variable} vers une copie locale.",
        "remedy_online": "{command} (en ligne)",
        "remedy_or": " ou ",
        "state_failed": "erreur",
        "state_evicted": "libéré (mémoire)",
        "state_not_loaded": "présent, pas encore chargé",
        "demo_failed": "Cette démo n'a pas pu démarrer ; les autres onglets fonctionnent. Le détail ci-dessous aide à la réparer.",
        "loading_model": "Chargement de {model} (première utilisation)…",
        "queue_full": "Le serveur est très sollicité : réessayez dans un instant.",
        "busy_queue_position": "En file d'attente : place {position} sur {size}",
        "busy_queue_wait": "encore {seconds} s environ",
        "busy_working": "En cours… {seconds} s",
        "busy_toast_error": "Erreur",
        "busy_toast_warning": "Attention",
        "busy_toast_info": "Information",
        "busy_toast_success": "C'est fait",
        "busy_close": "Fermer",
        "busy_send": "Envoyer",
        "number_not_a_number": "Ce n'est pas un nombre.",
        "number_empty": "Il faut une valeur.",
        "number_below_minimum": "{value} est en dessous du minimum ({low}).",
        "number_above_maximum": "{value} est au-dessus du maximum ({high}).",
        "number_kept": "La valeur précédente ({value}) est gardée.",
        "settings_theme_light": "Thème clair",
        "settings_theme_dark": "Thème sombre",
        "settings_theme_system": "Comme l'appareil",
        "settings_language": "Langue",
        "page_back_to_hub": "← Toutes les démos du cours",
        "not_found_title": "Page introuvable",
        "not_found_text": "Il n'y a pas de démo à cette adresse.",
        "not_found_link": "Ouvrir toutes les démos du cours",
    },
    en={
        "hub_title": "# Understanding generative AI — demos",
        "hub_subtitle": "Hands-on demos of the course “Comprendre l'IA générative” (IGN).",
        "tab_about": "About",
        "about_language": "Language: **Settings** at the bottom of the page → *Language* → *Français*.",
        "about_qr_heading": "Open on a phone",
        "about_loopback_only": "The hub listens on {host} only, this computer's address for itself: no phone can reach it. For a lecture hall, restart it with IAGEN_HOST=0.0.0.0 (or --host 0.0.0.0): it then listens on the local network.",
        "about_models_heading": "### Models",
        "about_models_refresh": "Refresh",
        "about_models_on_first_use": "Each model loads on its first use.",
        "about_ready": "Ready: every model is loaded ({seconds} s).",
        "about_ready_but": "Ready ({seconds} s), except what this server lacks: {missing}.",
        "models_column_model": "Model",
        "models_column_state": "State",
        "part_state": "{part}: {state}",
        "megabytes": "{size}\u00a0MB",
        "part_tokenizer": "tokenizer",
        "part_model": "model",
        "part_pipeline": "pipeline",
        "part_index": "index",
        "part_vocabulary": "vocabulary",
        "model_gpt2_bpe": "GPT-2 / GPT-3 BPE (r50k_base)",
        "model_openai_encodings": "OpenAI cl100k_base, o200k_base",
        "model_smollm2_135m_instruct": "SmolLM2-135M-Instruct",
        "model_gemma3_270m": "Gemma 3 270M",
        "model_luth_0_6b_instruct": "Luth-0.6B-Instruct (Qwen3-0.6B trained on French)",
        "model_qwen3_0_6b": "Qwen3-0.6B",
        "model_qwen3_0_6b_base": "Qwen3-0.6B-Base",
        "model_injection_classifier": "Prompt-injection classifier (DeBERTa-v3, Protect AI)",
        "model_fr_word_vectors": "French word vectors (spaCy fr_core_news_md)",
        "model_en_word_vectors": "English word vectors (GloVe 6B 50d)",
        "model_word_frequencies": "Word frequencies (wordfreq)",
        "model_seg2sat_controlnet": "Seg2Sat ControlNet (FLAIR)",
        "model_sd21_base": "Stable Diffusion 2.1 base",
        "model_taesd": "TAESD (Seg2Sat's step previews)",
        "model_tcd_lora": "TCD LoRA (Seg2Sat distilled to 4 steps)",
        "model_clip_encoder": "RS-M-CLIP (multilingual remote-sensing CLIP)",
        "model_clip_text_tower": "XLM-RoBERTa base (RS-M-CLIP's text reader)",
        "model_flair_gallery": "FLAIR #1 aerial images and their captions (IGN)",
        "state_loaded": "loaded",
        "state_loading": "loading…",
        "state_missing": "missing",
        "remedy": "To get it: {commands}; or point {variable} at a local copy.",
        "remedy_online": "{command} (while online)",
        "remedy_or": " or ",
        "state_failed": "error",
        "state_evicted": "released (memory)",
        "state_not_loaded": "available, not loaded yet",
        "demo_failed": "This demo could not start; the other tabs work. The detail below helps to fix it.",
        "loading_model": "Loading {model} (first use)…",
        "queue_full": "The server is very busy: please try again in a moment.",
        "busy_queue_position": "In the queue: {position} of {size}",
        "busy_queue_wait": "about {seconds} s left",
        "busy_working": "Working… {seconds} s",
        "busy_toast_error": "Error",
        "busy_toast_warning": "Warning",
        "busy_toast_info": "Information",
        "busy_toast_success": "Done",
        "busy_close": "Close",
        "busy_send": "Send",
        "number_not_a_number": "That is not a number.",
        "number_empty": "A value is needed.",
        "number_below_minimum": "{value} is below the minimum ({low}).",
        "number_above_maximum": "{value} is above the maximum ({high}).",
        "number_kept": "The previous value ({value}) is kept.",
        "settings_theme_light": "Light theme",
        "settings_theme_dark": "Dark theme",
        "settings_theme_system": "As the device",
        "settings_language": "Language",
        "page_back_to_hub": "← Every demo of the course",
        "not_found_title": "Page not found",
        "not_found_text": "There is no demo at this address.",
        "not_found_link": "Open every demo of the course",
    },
)


def model_name(key: str, language: str) -> str:
    """A catalogue model's name for a page in `language` (its title in the catalogue is the
    host's English, for the log and the remedies)."""
    return TEXTS.get(f"model_{key}", language) if f"model_{key}" in TEXTS else key


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
    # What the demos computed at start for every visitor, in every language (shared/i18n.py).
    page_texts: PageTexts = field(init=False, default_factory=PageTexts)
    # What the tabs compute for every visitor when the hub starts, after they were built and
    # before the page is served: first results, what works on this server (see `at_start`).
    start_tasks: list[Callable[[], None]] = field(init=False, default_factory=list)
    # What a demo keeps for the hub's life, the same for every page that shows it (the whole hub at
    # /, the demo's page of its own): Cémantix's rooms and players' sessions. By demo name.
    demo_state: dict[str, object] = field(init=False, default_factory=dict)

    def __post_init__(self):
        self.weights = WeightSources(self.settings)
        self.models = ModelCache(int(self.settings.memory_budget_gb * 1e9))

    def at_start(self, task: Callable[[], None]) -> None:
        """Run `task` when the hub starts, before the page is served: what was a page-load event
        for every phone, computed once (a first result, a sentence on what is missing), set as the
        components' first values (texts in every language through `page_texts`). Building a tab
        stays light (no model library imported); a failing task is logged and leaves the tab as
        it was built."""
        self.start_tasks.append(task)

    def start(self) -> None:
        """Run the start tasks (app.py, before serving)."""
        for task in self.start_tasks:
            try:
                task()
            except Exception:
                log.warning("a tab's start task failed", exc_info=True)

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
            progress(None, desc=TEXTS.get("loading_model", language, model=model_name(key.split(":")[0], language)))
        return self.models.get(key, loader, size_bytes=size_bytes)
