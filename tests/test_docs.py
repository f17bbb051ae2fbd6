"""The project's documentation holds together: every relative link of the README, CONTRIBUTING.md
and docs/*.md leads to a file of the repository, and where it names a heading (#anchor), that
heading exists. Reads the Markdown only: no hub, no model."""

import re
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MARKDOWN_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.IGNORECASE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text without its code: a link or a heading in a code block is an example, not one."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (letters of any
    alphabet, digits, `-` and `_` kept), spaces as hyphens."""
    heading = re.sub(r"<[^>]+>", "", heading.replace("`", "")).strip().lower()
    kept = "".join(
        character for character in heading if character in " -_" or unicodedata.category(character)[0] in "LN"
    )
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor; a heading met again gets -1, -2... as on GitHub."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    text = prose(page.read_text())
    links = MARKDOWN_LINK.findall(text) + HTML_LINK.findall(text)
    return [link for link in links if not re.match(r"[a-z][a-z0-9+.-]*:", link, re.IGNORECASE)]


def test_the_slug_is_githubs():
    assert slug("Deploy as a Hugging Face Space") == "deploy-as-a-hugging-face-space"
    assert slug("Start-up, the tokenizer, a load of `/tokenize`") == "start-up-the-tokenizer-a-load-of-tokenize"
    assert slug("Recherche par proximité (image search)") == "recherche-par-proximité-image-search"
    assert slug("What a room costs, and why") == "what-a-room-costs-and-why"


def test_the_pages_exist_and_link_to_each_other():
    assert all(page.is_file() for page in PAGES)
    assert {"settings.md", "api.md", "performance.md", "architecture.md", "models.md"} <= {page.name for page in PAGES}
    readme_links = {link.split("#")[0] for link in relative_links(REPO / "README.md")}
    for page in PAGES[1:]:
        assert str(page.relative_to(REPO)) in readme_links, f"the README does not lead to {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = []
    for link in relative_links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.is_relative_to(REPO):
            broken.append(f"{link}: outside the repository")
        elif not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{link}: no heading #{anchor} in {target.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)
