"""Shared by the Cémantix tests: the real vocabularies, built once per test session.

conftest.py points IAGEN_CACHE_DIR at a temporary folder for the whole session, so the first
test that needs a vocabulary builds it there (~10-30 s for French, ~5-10 s for English) and the
others load it in milliseconds, whichever Hub they use.
"""

from __future__ import annotations

import pytest

from shared.hub import Hub
from shared.settings import load_settings
from spaces.cemantix.vocabulary import load_vocabulary


@pytest.fixture(scope="session")
def cemantix_hub() -> Hub:
    return Hub(load_settings([]))


@pytest.fixture(scope="session")
def french(cemantix_hub):
    return load_vocabulary(cemantix_hub, "fr")


@pytest.fixture(scope="session")
def english(cemantix_hub):
    return load_vocabulary(cemantix_hub, "en")
