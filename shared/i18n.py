"""French first, English available.

Static text (tab names, labels, Markdown) goes through Gradio's own i18n: components get
`texts.label(key)`, and the browser translates with the dictionaries given to `launch(i18n=...)`;
Gradio picks the browser's language and its Settings panel (page footer) switches it.

Text computed in Python once for everyone (a tab's « model missing » sentence, a first result)
goes into the page in every language (`PageTexts`, at the hub's start) and is translated in the
browser the same way. Text computed in Python for one request (messages, tables) needs the user's
language on the server:
`request_language(request)` reads the cookie that `LANGUAGE_SCRIPT` keeps equal to the page's
current language (so the Settings switch is followed), then the browser's Accept-Language, and
falls back to French. API clients get French unless they send Accept-Language: en.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_COOKIE = "iagen_lang"

# Gradio sets <html lang> to the language it displays; mirror it into a cookie the server reads,
# and into the browser's storage, so that the language chosen in the settings is kept on reload
# (SAVED_LANGUAGE_SCRIPT). A language switched in place would leave what the server said before in
# the old one (a game's messages, a result): the page reloads in the new language instead, and
# finds its game again (its saved token).
LANGUAGE_KEY = "iagen-language"
LANGUAGE_SCRIPT = f"""<script>
(function () {{
  const html = document.documentElement;
  const remember = () => {{
    const lang = (html.lang || "").slice(0, 2);
    if (!lang) return;
    document.cookie = "{LANGUAGE_COOKIE}=" + lang + "; path=/; SameSite=Lax";
    localStorage.setItem("{LANGUAGE_KEY}", lang);
  }};
  remember();
  const shown = (html.lang || "").slice(0, 2);
  new MutationObserver(() => {{
    remember();
    if (shown && (html.lang || "").slice(0, 2) !== shown) window.location.reload();
  }}).observe(html, {{attributes: true, attributeFilter: ["lang"]}});
}})();
</script>"""

# Gradio picks its language from the browser's as it starts, before any script of the page's
# <head> runs: this one goes first in the page (shared/compression.py's KeepPages puts it there)
# and gives Gradio the language chosen last time.
SAVED_LANGUAGE_SCRIPT = f"""<script>
(function () {{
  const saved = localStorage.getItem("{LANGUAGE_KEY}");
  if ({list(LANGUAGES)!r}.includes(saved)) {{
    Object.defineProperty(navigator, "language", {{get: () => saved, configurable: true}});
    Object.defineProperty(navigator, "languages", {{get: () => [saved], configurable: true}});
  }}
}})();
</script>"""


class Texts:
    """One demo's texts in every language, with the same keys in each (checked here, so a
    missing translation fails at import in the tests rather than in front of a user)."""

    def __init__(self, **by_language: Mapping[str, str]):
        if set(by_language) != set(LANGUAGES):
            raise ValueError(f"texts needed in {LANGUAGES}, got {tuple(by_language)}")
        reference = set(by_language[DEFAULT_LANGUAGE])
        for language, texts in by_language.items():
            if set(texts) != reference:
                missing = sorted(reference ^ set(texts))
                raise ValueError(f"{language} texts differ from {DEFAULT_LANGUAGE} on: {', '.join(missing)}")
        self.by_language = {language: dict(texts) for language, texts in by_language.items()}

    def __contains__(self, key: str) -> bool:
        return key in self.by_language[DEFAULT_LANGUAGE]

    def label(self, key: str):
        """A translatable label for a component, translated in the browser."""
        from gradio.i18n import I18nData

        if key not in self:
            raise KeyError(key)
        return I18nData(key)

    def get(self, key: str, language: str, **values: object) -> str:
        """The text in `language`, formatted with `values` (for messages computed in Python)."""
        texts = self.by_language.get(language, self.by_language[DEFAULT_LANGUAGE])
        return texts[key].format(**values) if values else texts[key]


class PageTexts:
    """Texts computed in Python when the hub starts, in every language, that go into the page and
    are translated in the browser like the labels: what is the same for every visitor (a tab's
    « model missing » sentence, a first result) without an event per phone to compute it.

    `add` returns the value to give a component (a Textbox's, an HTML's, a Checkbox's info...): the
    browser shows the text of the page's language, and switches it with the language.
    """

    def __init__(self):
        self.by_language: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}

    def add(self, key: str, **by_language: str) -> str:
        from gradio.i18n import I18nData

        if set(by_language) != set(LANGUAGES):
            raise ValueError(f"{key}: texts needed in {LANGUAGES}, got {tuple(by_language)}")
        for language, text in by_language.items():
            self.by_language[language][key] = text
        return str(I18nData(key))

    def texts(self) -> Texts:
        return Texts(**self.by_language)


def format_number(value: float, language: str, decimals: int = 0) -> str:
    """12 345,67 in French (narrow no-break space, decimal comma), 12,345.67 in English; a
    typographic minus sign in both (−3,42 °C reads better than -3,42 °C)."""
    text = f"{value:,.{decimals}f}".replace("-", "\u2212")
    if language == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


# Words Gradio's status region asks for in the page's language and its own dictionaries lack (6.31):
# a screen reader heard the key « common.complete » when a result arrived. A flat key "common.x"
# is found before Gradio's nested ones. The chatbot's copy button: its French dictionary lacks it,
# and Gradio falls back to English (« Copy message »).
GRADIO_MISSING_WORDS = Texts(
    fr={
        "common.complete": "Terminé",
        "common.progress": "Progression",
        "chatbot.copy_message": "Copier le message",
        "chatbot.copied_message": "Message copié",
    },
    en={
        "common.complete": "Done",
        "common.progress": "Progress",
        "chatbot.copy_message": "Copy message",
        "chatbot.copied_message": "Message copied",
    },
)


def merge_for_gradio(*all_texts: Texts):
    """One gr.I18n holding every demo's texts and the words Gradio lacks; two demos may not use the
    same key."""
    import gradio as gr

    merged: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    for texts in (*all_texts, GRADIO_MISSING_WORDS):
        for language in LANGUAGES:
            clash = merged[language].keys() & texts.by_language[language].keys()
            if clash:
                raise ValueError(f"translation keys used twice: {', '.join(sorted(clash))}")
            merged[language].update(texts.by_language[language])
    return gr.I18n(**merged)


def request_language(request: object | None) -> str:
    """The language of the user behind a Gradio request (a gr.Request, or None for internal calls)."""
    if request is None:
        return DEFAULT_LANGUAGE
    cookie = (getattr(request, "cookies", None) or {}).get(LANGUAGE_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    header = (getattr(request, "headers", None) or {}).get("accept-language", "")
    return _preferred_language(header)


def _preferred_language(accept_language: str) -> str:
    weighted = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.strip().lower()[:2]))
    for _, _, language in sorted(weighted):
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE
