"""The Échantillonnage tab's HTML: the chart, the stage table, the text so far, the comparison of
two prompts, the generated tokens and the status lines (styled by styles.CSS). Gradio-free;
every text a user typed or a model wrote is escaped."""

from __future__ import annotations

import html
import json
import math

from shared.i18n import format_number
from spaces.sampling.texts import TEXTS

VISIBLE_WHITESPACE = {" ": "␣", "\n": "↵", "\t": "⇥"}
RAW_COLOUR, FINAL_COLOUR = "var(--hub-chart-raw-color)", "var(--hub-chart-final-color)"  # shared/hub_page.py


def percent(probability: float, language: str, sign: bool = True) -> str:
    """33,0 % (or 33,0 without the sign, in a table whose caption says %); "—" for a token removed."""
    if probability == 0:
        return "—"
    suffix = " %" if sign else ""
    if probability < 0.001:
        return ("< " if sign else "<") + format_number(0.1, language, 1) + suffix
    return format_number(100 * probability, language, 1) + suffix


def visible_whitespace(text: str) -> str:
    """A token as a label: " lit" becomes "␣lit", so that its leading space shows."""
    return "".join(VISIBLE_WHITESPACE.get(character, character) for character in text)


def visible(text: str) -> str:
    return html.escape(visible_whitespace(text))


def choice_label(candidate, language: str) -> str:
    """A candidate in the radio under the chart: « ␣lit · 33,0 % » (its probability after the filters)."""
    return f"{visible_whitespace(candidate.label)} · {percent(candidate.probabilities[-1], language)}"


def status_html(
    lines: list[str], notices: list[str] = (), cost_html: str = "", spoken: str = "", streaming: bool = False
) -> str:
    """A stream's or a view's status lines and notices; under a finished reply, its cost line
    (shared/reply_cost_line.py's HTML). The status is a polite live region (ui.py): `spoken` is said
    and not shown (a view's summary); while a stream runs (`streaming`), its « 12 tokens… » line is
    kept from the screen reader, which would say it at every token, and its last line is said once."""
    hidden = ' aria-hidden="true"' if streaming else ""
    paragraphs = [f"<p{hidden}>{html.escape(line)}</p>" for line in lines]
    paragraphs += [f'<p class="notice">{html.escape(notice)}</p>' for notice in notices]
    if spoken:
        paragraphs.append(f'<p class="hub-spoken">{html.escape(spoken)}</p>')
    return f'<div class="sampling-status">{"".join(paragraphs)}{cost_html}</div>'


def view_summary(next_token, language: str) -> str:
    """A view in one sentence, for a screen reader: how many tokens the filters keep, the most
    likely and its probability (the words filters.js says when a slider moves)."""
    best = max(next_token.candidates, key=lambda candidate: candidate.probabilities[-1])
    return TEXTS.get(
        "sampling_live_view",
        language,
        kept=format_number(next_token.stages[-1].kept, language),
        token=visible_whitespace(best.label),
        percent=percent(best.probabilities[-1], language),
    )


def placeholder_html(language: str) -> str:
    """The chart's place before the first distribution: what to tap."""
    return f'<p class="sampling-placeholder">{html.escape(TEXTS.get("sampling_chart_placeholder", language))}</p>'


def stages_table_html(next_token, language: str) -> str:
    """Candidates x the stages that are on: the probability (%) after each, "—" once a stage
    removed it; the stages that are off are named under the table. Narrow enough for a phone."""
    shown = [index for index, stage in enumerate(next_token.stages) if stage.active]
    stage_names = [TEXTS.get(f"sampling_stage_{stage.name}", language) for stage in next_token.stages]
    header = [f"<th>{html.escape(TEXTS.get('sampling_column_token', language))}</th>"]
    header += [f"<th>{html.escape(stage_names[index])}</th>" for index in shown]
    rows = []
    for candidate in next_token.candidates:
        cells = [f'<td class="token"><code>{visible(candidate.label)}</code></td>']
        for index in shown:
            probability = candidate.probabilities[index]
            removed = ' class="removed"' if probability == 0 else ""
            cells.append(f"<td{removed}>{html.escape(percent(probability, language, sign=False))}</td>")
        rows.append(f"<tr{'' if candidate.kept else ' class=removed'}>{''.join(cells)}</tr>")
    kept = "".join(f"<td>{format_number(next_token.stages[index].kept, language)}</td>" for index in shown)
    entropy = "".join(
        f"<td>{format_number(next_token.stages[index].entropy_bits, language, 2)}</td>" for index in shown
    )
    footer = (
        f"<tr><th>{html.escape(TEXTS.get('sampling_row_kept', language))}</th>{kept}</tr>"
        f"<tr><th>{html.escape(TEXTS.get('sampling_row_entropy', language))}</th>{entropy}</tr>"
    )
    off = [stage_names[index] for index, stage in enumerate(next_token.stages) if not stage.active]
    off_line = (
        f'<p class="sampling-off">{html.escape(TEXTS.get("sampling_stages_off", language, stages=", ".join(off)))}</p>'
        if off
        else ""
    )
    caption = html.escape(TEXTS.get("sampling_table_caption", language))
    return (
        f'<table class="sampling-stages"><caption>{caption}</caption><thead><tr>{"".join(header)}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot>{footer}</tfoot></table>{off_line}"
    )


def chart_legend(language: str) -> str:
    return (
        f'<div class="sampling-chart-legend"><span><i style="background:{RAW_COLOUR}"></i>'
        f'{html.escape(TEXTS.get("sampling_chart_raw", language))}</span><span><i style="background:{FINAL_COLOUR}">'
        f"</i>{html.escape(TEXTS.get('sampling_chart_final', language))}</span>"
        f"<span><s>abc</s> {html.escape(TEXTS.get('sampling_chart_removed', language))}</span></div>"
    )


def chart_html(next_token, language: str) -> str:
    """One bar per candidate: the model's probability, and the one drawn from after the filters."""
    rows = []
    for candidate in next_token.candidates:
        raw, final = candidate.probabilities[0], candidate.probabilities[-1]
        removed = "" if candidate.kept else " removed"
        rows.append(
            f'<span class="label{removed}"><code>{visible(candidate.label)}</code></span>'
            f'<span class="track{removed}"><span class="raw" style="width:{100 * raw:.1f}%"></span>'
            f'<span class="final" style="width:{100 * final:.1f}%"></span></span>'
            f'<span class="value{removed}">{html.escape(percent(final, language))}</span>'
        )
    return f'{chart_legend(language)}<div class="sampling-chart">{"".join(rows)}</div>'


def filters_html(payload: dict, prompt: str, next_token) -> str:
    """Hidden beside the chart: what filters.js needs to redraw it while a slider moves, the text
    it belongs to (another text in the box needs the server) and the candidates the radio offers."""
    data = {**payload, "prompt": prompt, "shown": [candidate.token_id for candidate in next_token.candidates]}
    return f'<div class="sampling-filters" hidden data-filters="{html.escape(json.dumps(data, ensure_ascii=False))}"></div>'


def comparison_html(comparison, prompts: list[str], language: str) -> str:
    """The pronouns' odds in words (where the prompts call for a pronoun), then the tokens most
    likely after either prompt, with the model's probability after each: one row per token, one
    column per prompt; the pronouns' rows marked (◆, in bold)."""
    header = '<span class="corner"></span>' + "".join(
        f'<span class="prompt">{html.escape(prompt)}…</span>' for prompt in prompts
    )
    pronoun_ids = comparison.pronouns.token_ids if comparison.pronouns else ()
    rows = []
    for token in comparison.tokens:
        cells = "".join(
            f'<span class="track"><span class="bar" style="width:{100 * probability:.1f}%"></span>'
            f"<b>{html.escape(percent(probability, language))}</b></span>"
            for probability in token.probabilities
        )
        marked = token.token_id in pronoun_ids
        label = f"<code>{visible(token.label)}</code>" + (" ◆" if marked else "")
        rows.append(f'<span class="label{" pronoun" if marked else ""}">{label}</span>{cells}')
    legend = f'<p class="sampling-legend">{html.escape(TEXTS.get("sampling_compare_legend", language))}</p>'
    columns = len(prompts)
    return (
        pronouns_html(comparison.pronouns, prompts, language)
        + (
            f'<div class="sampling-compare" style="--columns:{columns}">{header}{"".join(rows)}</div>'
            if comparison.tokens
            else ""
        )
        + legend
    )


def comparison_summary(comparison, prompts: list[str], language: str) -> str:
    """The comparison in a few sentences, for a screen reader: the likeliest token after each prompt."""
    if not comparison.tokens:
        return ""
    sentences = []
    for index, prompt in enumerate(prompts):
        best = max(comparison.tokens, key=lambda token: token.probabilities[index])
        sentences.append(
            TEXTS.get(
                "sampling_compare_spoken",
                language,
                prompt=prompt,
                token=visible_whitespace(best.label),
                percent=percent(best.probabilities[index], language),
            )
        )
    return " ".join(sentences)


def times(ratio: float, language: str) -> str:
    """« 13,6 » (times as likely); « plus de 1 000 » where one probability is (almost) nothing."""
    if ratio >= 1000:
        return TEXTS.get("sampling_compare_over", language, number=format_number(1000, language))
    return format_number(ratio, language, 1)


def pronouns_html(pronouns, prompts: list[str], language: str) -> str:
    """The bias slide in words: after each prompt, which pronoun is likelier and how many times;
    then how much the odds of the feminine one moved from the first prompt to the second."""
    if pronouns is None:
        return ""
    masculine, feminine = pronouns.words
    lines = []
    for index, prompt in enumerate(prompts):
        odds = pronouns.odds(index)
        likely, other = (masculine, feminine) if odds >= 1 else (feminine, masculine)
        ratio = odds if odds >= 1 else 1 / odds
        lines.append(
            TEXTS.get(
                "sampling_compare_odds",
                language,
                prompt=prompt,
                likely=likely,
                other=other,
                ratio=times(ratio, language),
            )
        )
    if len(prompts) == 2 and all(0 < odds < math.inf for odds in map(pronouns.odds, range(2))):
        change = pronouns.odds(0) / pronouns.odds(1)  # how much likelier the feminine one became
        word, other = (feminine, masculine) if change >= 1 else (masculine, feminine)
        factor = change if change >= 1 else 1 / change
        lines.append(
            TEXTS.get("sampling_compare_odds_change", language, word=word, other=other, factor=times(factor, language))
        )
    return '<div class="sampling-odds">' + "".join(f"<p>{html.escape(line)}</p>" for line in lines) + "</div>"


def steps_text_html(lm, steps, language: str) -> str:
    """The prompt, then each appended token, coloured by how it came (drawn or chosen), with the
    colours' legend; nothing before a token is appended (the prompt box shows the prompt)."""
    from spaces.sampling import logic

    if not steps.token_ids:
        return ""

    stream = logic.TextStream(lm.tokenizer)
    pieces = [html.escape(steps.prompt)]
    last = len(steps.token_ids) - 1
    for index, (token_id, drawn) in enumerate(zip(steps.token_ids, steps.drawn, strict=True)):
        piece = stream.add(token_id, last=index == last)
        if piece:  # a line break drawn or chosen shows as ↵ before it breaks the line, as in the tokenizer
            shown = html.escape(piece).replace("\n", "↵\n")
            pieces.append(f'<span class="{"drawn" if drawn else "chosen"}">{shown}</span>')
    legend = f'<p class="sampling-legend">{html.escape(TEXTS.get("sampling_steps_legend", language))}</p>'
    return f'<div class="sampling-text">{"".join(pieces)}</div>{legend}'


def token_colour(probability: float) -> str:
    """Red for an unlikely token, through yellow (25 %), to green for a sure one. The square root
    spreads the usual range (a few % to 50 %) over the colours instead of leaving it all red."""
    return f"hsl({120 * probability**0.5:.0f}, 75%, 82%)"


def generated_token_html(token, language: str, first: bool = False) -> str:
    """One generated token, coloured by its probability, with the model's favourites in a pop-up
    shown on hover or tap (tabindex makes a tap focus it; a tap elsewhere closes it). Its
    probability is in its text too, for a screen reader (not by colour alone). The text is one tab
    stop, its first token; the arrow keys go from token to token (styles.TAB_SCRIPT)."""
    favourite = token.alternatives[0][0]
    alternatives = "".join(
        f"<br>{'<b>' if label == favourite else ''}<code>{visible(label)}</code> "
        f"{html.escape(percent(probability, language))}{'</b>' if label == favourite else ''}"
        for label, probability in token.alternatives
    )
    popup = (
        f'<span class="alternatives" role="tooltip">{html.escape(TEXTS.get("sampling_alternatives", language))}'
        f"{alternatives}</span>"
    )
    probability = html.escape(percent(token.probability, language))
    spoken = html.escape(
        TEXTS.get("sampling_token_probability", language, percent=percent(token.probability, language))
    )
    popup += f'<span class="hub-spoken"> ({spoken})</span>'
    attributes = (
        f'tabindex="{0 if first else -1}" style="background:{token_colour(token.probability)}" title="{probability}"'
    )
    if token.finish == "end_of_text":
        end = html.escape(TEXTS.get("sampling_end_of_text", language))
        return f'<span class="sampling-token end" {attributes}>⏹ {end}{popup}</span>'
    if not token.text:  # the first bytes of a character that a later token completes
        return f'<span class="sampling-token partial" {attributes}>{popup}</span>'
    return f'<span class="sampling-token" {attributes}>{html.escape(token.text)}{popup}</span>'


def progress_line(count: int, finish: str | None, seconds: float, language: str) -> str:
    """ "12 tokens…" while it streams; at the end, the speed and why it stopped."""
    if finish is None:
        return TEXTS.get("sampling_generating", language, count=format_number(count, language))
    return TEXTS.get(
        f"sampling_finish_{finish}",
        language,
        count=format_number(count, language),
        seconds=format_number(seconds, language, 1),
        speed=format_number(count / max(seconds, 1e-9), language, 1),
    )


def notices_for(adjustments, contexts, lm, language: str) -> list[str]:
    """What the user should know about the settings clamped and the texts cut to fit the context."""
    notices = [
        TEXTS.get(
            "sampling_adjusted" if _is_number(adjusted.given) else "sampling_not_a_number",
            language,
            setting=TEXTS.get(f"sampling_{adjusted.setting}", language),
            given=str(adjusted.given)[:24],  # an API client's text, as much as a sentence can hold
            used=format_number(adjusted.used, language, 2),
        )
        for adjusted in adjustments
    ]
    if any(context.truncated for context in contexts):
        notices.append(TEXTS.get("sampling_truncated", language, limit=format_number(lm.context_limit, language)))
    return notices


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
