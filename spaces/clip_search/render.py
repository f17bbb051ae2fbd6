"""The tab's status line and result values, Gradio-free: what a query's rendering costs is timed
by benchmarks/clip_search.py without importing Gradio."""

from __future__ import annotations

import html
from pathlib import Path

from shared.i18n import format_number
from spaces.clip_search import logic
from spaces.clip_search.texts import TEXTS

CAPTION_CHARS = 90


def status_html(lines: list[str], notices: list[str] = (), error: str | None = None) -> str:
    """Plain texts → escaped paragraphs (queries and captions come from users and datasets)."""
    paragraphs = [f'<p class="clip-search-error">{html.escape(error)}</p>'] if error else []
    paragraphs += [f"<p>{html.escape(line)}</p>" for line in lines]
    paragraphs += [f'<p class="clip-search-notice">{html.escape(notice)}</p>' for notice in notices]
    return "".join(paragraphs)


def result_grid_value(results, language: str) -> list[tuple[Path, str, float]]:
    """(thumbnail, "0,31 · caption", score) for the ResultGrid, best first."""
    value = []
    for result in results:
        caption = logic.caption_in(language, result.item.caption) if result.item.caption else ""
        caption = shorten(caption or TEXTS.get("clip_search_no_caption", language), CAPTION_CHARS)
        value.append((result.thumbnail, f"{format_number(result.score, language, 2)} · {caption}", result.score))
    return value


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
