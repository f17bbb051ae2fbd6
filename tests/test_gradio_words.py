"""Gradio's status region (what a screen reader hears when a result arrives) speaks the page's
language: every `common.*` word it asks for is in Gradio's own dictionary of that language or in
the hub's (shared/i18n.py GRADIO_MISSING_WORDS). Reads Gradio's bundled JavaScript: no hub."""

import re
from pathlib import Path

import gradio
import pytest

from shared.i18n import LANGUAGES, merge_for_gradio

ASSETS = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"


def status_region_words() -> set[str]:
    (tracker,) = ASSETS.glob("statustracker-*.js")
    return set(re.findall(r"i18n\(`common\.(\w+)`\)", tracker.read_text()))


def test_the_status_region_still_asks_for_its_words():
    assert {"loading", "complete", "error"} <= status_region_words()


def gradios_common_words(language: str) -> set[str]:
    """The keys of the `common` part of Gradio's bundled dictionary for a language: the minified
    object that starts with `built_with:` (English's lies in Gradio's core bundle)."""
    (dictionary,) = ASSETS.glob(f"{language}-*.js")
    text = dictionary.read_text()
    if "{built_with:`" not in text:
        (core,) = ASSETS.glob("core-*.js")
        text = core.read_text()
    common = re.search(r"\{(built_with:`[^}]*)\}", text).group(1)
    return set(re.findall(r"(?:^|,)(\w+):`", common))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_of_the_status_region_is_translated(language):
    hubs = merge_for_gradio().translations_dict[language]
    gradios = gradios_common_words(language)
    assert "loading" in gradios  # the dictionary was read
    missing = [word for word in sorted(status_region_words()) if word not in gradios and f"common.{word}" not in hubs]
    assert not missing, f"{language}: Gradio shows these keys untranslated: {missing}"
