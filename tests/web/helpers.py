"""Helpers of the page tests."""

from __future__ import annotations

import html


def text(response) -> str:
    """A response's body with HTML entities decoded, to search for sentences."""
    return html.unescape(response.content.decode())
