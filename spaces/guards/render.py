"""The « Gardes-fous » tab's HTML, in the page's language. Everything a player typed (a prompt, a
nickname) is escaped here, the board included."""

from __future__ import annotations

from html import escape

from shared.i18n import format_number
from spaces.guards import logic
from spaces.guards.guards import BLOCKLIST, GUARD_STAGE, INJECTION_CLASSIFIER, INSTRUCTION, PRE, Level
from spaces.guards.texts import TEXTS


def paragraph(text: str, kind: str = "") -> str:
    """One sentence (already plain text), escaped; `kind`: good, problem or empty."""
    css = f' class="guards-{kind}"' if kind else ""
    return f"<p{css}>{escape(text)}</p>"


def guard_line(guard: str, language: str) -> str:
    """« la liste de mots interdits (pré-traitement) : un prompt qui… »"""
    return TEXTS.get(
        "guards_guard_line",
        language,
        guard=TEXTS.get(f"guards_guard_{guard}", language),
        stage=TEXTS.get(f"guards_stage_{GUARD_STAGE[guard]}", language),
        explanation=TEXTS.get(f"guards_guard_{guard}_explain", language),
    )


def level_info(level: Level, classifier_available: bool, language: str) -> str:
    """A level's guards, each with its one-line explanation; the classifier said unavailable where
    this server lacks it."""
    heading = f"<p><strong>{escape(TEXTS.get('guards_level_heading', language, level=level.number))}</strong></p>"
    if not level.guards:
        return heading + paragraph(TEXTS.get("guards_level_no_guard", language))
    items = []
    for guard in level.guards:
        line = escape(guard_line(guard, language))
        if guard == INJECTION_CLASSIFIER and not classifier_available:
            line += f" <em>{escape(TEXTS.get('guards_classifier_unavailable', language))}</em>"
        items.append(f"<li>{line}</li>")
    return heading + f"<ul>{''.join(items)}</ul>"


def verdict(shown: logic.Shown, language: str) -> str:
    """Under the answer: which guard blocked it, or what the model is doing."""
    if shown.blocked_by is not None:
        guard = shown.blocked_by
        text = TEXTS.get(
            "guards_blocked",
            language,
            guard=TEXTS.get(f"guards_guard_{guard}", language),
            stage=TEXTS.get(f"guards_stage_{GUARD_STAGE[guard]}", language),
            explanation=TEXTS.get(f"guards_guard_{guard}_explain", language),
        )
        return paragraph(text, "problem")
    if not shown.done:
        if shown.held_back:
            return paragraph(TEXTS.get("guards_held_back", language, tokens=format_number(shown.tokens, language)))
        return paragraph(TEXTS.get("guards_writing", language))
    return paragraph(TEXTS.get("guards_passed_guards" if shown.held_back else "guards_answered", language), "good")


def progress(passed: set[int], language: str) -> str:
    if not passed:
        return paragraph(TEXTS.get("guards_progress_none", language))
    return paragraph(TEXTS.get("guards_progress", language, levels=", ".join(map(str, sorted(passed)))))


def false_positives(rates: dict, blocked_questions: list[str], language: str) -> str:
    """Per guard that reads a prompt or an answer, its false-positive rate (attacks.
    false_positive_rates: guard key -> (blocked, total)) and the innocent questions the input
    guards block; a guard left out was not measured here (the classifier without its weights)."""
    items = []
    for guard, stage in GUARD_STAGE.items():
        if stage == INSTRUCTION:
            continue
        name = TEXTS.get(f"guards_guard_{guard}", language)
        if guard not in rates:
            items.append(f"<li>{escape(TEXTS.get('guards_false_positive_unavailable', language, guard=name))}</li>")
            continue
        blocked, total = rates[guard]
        percent = format_number(100 * blocked / total if total else 0, language, 1)
        line = TEXTS.get(
            "guards_false_positive_rate",
            language,
            guard=name,
            blocked=format_number(blocked, language),
            total=format_number(total, language),
            percent=percent,
        )
        examples = ""
        if stage == PRE and blocked_questions and guard == BLOCKLIST:
            quoted = " ; ".join(f"« {question} »" for question in blocked_questions)
            examples = (
                f"<br><small>{escape(TEXTS.get('guards_false_positive_examples', language, examples=quoted))}</small>"
            )
        items.append(f"<li>{escape(line)}{examples}</li>")
    intro = paragraph(TEXTS.get("guards_false_positives_intro", language))
    return f"{intro}<ul>{''.join(items)}</ul>"


def host_panel(code: str, address: str | None, qr_svg: str, board_link: str, board: logic.Board, language: str) -> str:
    """The lecturer's panel of the room they opened: its code, QR code and links, then its board."""
    parts = [f"<p>{TEXTS.get('guards_host_code', language, code=escape(code))}</p>"]
    if address:
        parts.append(
            f'<div class="guards-qr">{qr_svg}</div><p>{escape(TEXTS.get("guards_host_join", language))} : '
            f'<a href="{escape(address)}">{escape(address)}</a></p>'
        )
    else:
        parts.append(paragraph(TEXTS.get("guards_host_loopback", language)))
    parts.append(
        f'<p><a href="{escape(board_link)}" target="_blank">{escape(TEXTS.get("guards_board_link", language))}</a></p>'
    )
    return "".join(parts) + board_html(board, language)


def board_html(board: logic.Board, language: str, address: str | None = None, qr_svg: str = "") -> str:
    """The projector's board, readable from the back of a hall: each player's highest level, then
    each level's prompt golf once it is closed (never a secret or a prompt before)."""
    parts = [
        f'<div class="guards-board"><h2>{escape(TEXTS.get("guards_board_heading", language, code=board.code))}</h2>'
    ]
    if address and not board.ended:
        parts.append(
            f'<div class="guards-board-join"><div class="guards-qr">{qr_svg}</div>'
            f"<p>{escape(TEXTS.get('guards_board_scan', language))} — <b>{escape(board.code)}</b></p></div>"
        )
    if board.ended:
        parts.append(paragraph(TEXTS.get("guards_board_ended", language)))
    if board.rows:
        rows = "".join(f"<tr><td>{escape(row.nickname)}</td><td>{row.highest}</td></tr>" for row in board.rows)
        parts.append(
            f"<table><caption>{escape(TEXTS.get('guards_board_players', language))}</caption>"
            f'<thead><tr><th scope="col">{escape(TEXTS.get("guards_board_player", language))}</th>'
            f'<th scope="col">{escape(TEXTS.get("guards_board_highest", language))}</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    else:
        parts.append(paragraph(TEXTS.get("guards_board_empty", language)))
    parts.append(f'<h3>{escape(TEXTS.get("guards_board_levels", language))}</h3><ol class="guards-golf">')
    for level in board.levels:
        heading = escape(TEXTS.get("guards_board_level", language, level=level.number))
        passed_by = escape(TEXTS.get("guards_board_passed_by", language, count=level.passed_by))
        item = f"<li><strong>{heading}</strong> — {passed_by}"
        if not level.shown:
            item += f" — <em>{escape(TEXTS.get('guards_board_hidden', language))}</em>"
        else:
            item += f" — {escape(TEXTS.get('guards_board_secret', language, secret=level.secret))}"
            if not level.golf:
                item += f"<br>{escape(TEXTS.get('guards_board_no_golf', language))}"
            for nickname, prompt in level.golf:
                who = TEXTS.get("guards_board_golf", language, nickname=nickname, length=len(prompt))
                item += f"<br>{escape(who)} <q>{escape(prompt)}</q>"
        parts.append(item + "</li>")
    parts.append("</ol></div>")
    return "".join(parts)
