"""The line under a reply, its HTML (tokens, CPU time, energy and CO2e, the same text by large
hosted models), for any tab that writes replies: Gradio-free, apart from the page's parts in
reply_cost_ui.py, so that benchmarks/reply_cost.py times building it without importing Gradio."""

from __future__ import annotations

import html

from shared.reply_cost import ReplyCost, cost_line, hosted_estimates, spoken_cost

# Hidden from the eye, read by a screen reader (a class would need every tab's CSS).
SPOKEN_STYLE = "position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap"


def reply_cost_html(cost: ReplyCost, language: str) -> str:
    """The line to show under a reply, in the page's language: tokens, CPU time, energy and CO2e
    (and whether measured or modelled), the same text by large hosted models. Give it the
    `ReplyCost` that `shared.reply_cost.REPLY_COSTS.measure()` set once the reply ended; any
    tab's status or result HTML can carry it (a page with reply_cost_ui.ANNOUNCE_SCRIPT reads it aloud)."""
    estimates = hosted_estimates(cost.tokens)
    shown = html.escape(cost_line(cost, estimates, language))
    spoken = html.escape(spoken_cost(cost, estimates, language))
    return (
        f'<p class="reply-cost" style="font-size:0.9em;margin-top:0.4rem"><span aria-hidden="true">{shown}</span>'
        f'<span class="reply-cost-spoken" style="{SPOKEN_STYLE}">{spoken}</span></p>'
    )
