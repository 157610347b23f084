"""The bulletin's text on the page: paragraphs, and **…** sub-headings in bold (as in the .docx)."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

BOLD = re.compile(r"\*\*(.+?)\*\*")


@register.filter
def paragraphs(text: str) -> list[str]:
    """Escaped paragraphs of an item's body with **…** as <strong>."""
    out = []
    for line in (text or "").split("\n"):
        if line.strip():
            out.append(mark_safe(BOLD.sub(r"<strong>\1</strong>", escape(line.strip()))))  # noqa: S308 - escaped first
    return out or [""]


@register.filter
def plain(text: str) -> str:
    """The text without the **…** marks, for excerpts."""
    return BOLD.sub(r"\1", text or "")
