"""A lesson's Markdown as Qt rich text: paragraphs, **bold**, *italic*, `code`, lists
starting with '- ', and inline HTML (E<sub>K</sub>, &deg;) kept as written, so
equations with subscripts and superscripts render legibly in any Qt text widget."""

import re

_INLINE = ((re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"),
           (re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\*)"), r"<i>\1</i>"),
           (re.compile(r"`(.+?)`"), r"<code>\1</code>"))


def inline(text):
    """One line or paragraph's emphasis and code as HTML."""
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def to_html(markdown):
    """The Markdown of a lesson step as an HTML fragment."""
    blocks = re.split(r"\n\s*\n", markdown.strip())
    parts = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{inline(line[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        elif len(lines) == 1 and "=" in lines[0] and "<sub>" in lines[0]:
            parts.append(f"<p align='center' style='font-size:large'>{inline(lines[0])}</p>")
        else:
            parts.append(f"<p>{inline(' '.join(lines))}</p>")
    return "".join(parts)
