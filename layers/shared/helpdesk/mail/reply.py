"""Separating a reply's new text from quoted history and signatures."""

from __future__ import annotations


def visible_text(text: str) -> str:
    """The new reply text of a plain-text body (first version: the whole text)."""
    return text.strip()
