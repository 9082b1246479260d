"""Helpers of the page tests."""

from __future__ import annotations

import html


def text(response) -> str:
    """A response's body with HTML entities decoded, to search for sentences."""
    return html.unescape(response.content.decode())


def words(response) -> str:
    """What a reader sees: the body without tags, runs of white space as one space."""
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())
