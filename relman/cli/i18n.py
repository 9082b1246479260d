"""The command's language: the server's message catalogue, chosen from the environment.

Client commands do not load Django, so messages are read from the same compiled catalogue
(`relman/locale/<lang>/LC_MESSAGES/django.mo`) with the standard library. Server-side commands
also activate the language in Django, so service errors come back in it.
"""

from __future__ import annotations

import gettext as _stdlib_gettext
import os
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "zh-hans")


def language() -> str:
    """`zh-hans` or `en`, from RELMAN_LANGUAGE, else the locale (LC_ALL, LC_MESSAGES, LANG)."""
    for name in ("RELMAN_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").strip().lower()
        if value:
            return "zh-hans" if value.startswith("zh") else "en"
    return "en"


@cache
def _catalogue() -> _stdlib_gettext.NullTranslations:
    locale = "zh_Hans" if language() == "zh-hans" else "en"
    return _stdlib_gettext.translation(
        "django", localedir=LOCALE_DIR, languages=[locale], fallback=True
    )


def gettext(message: str) -> str:
    """`message` in the command's language (English when there is no translation)."""
    return _catalogue().gettext(message)


_ = gettext


def language_option(value: str | None) -> str | None:
    """Typer callback: accept only the languages relman speaks."""
    if value is not None and value not in LANGUAGES:
        import typer

        raise typer.BadParameter(gettext("choose one of: %s") % ", ".join(LANGUAGES))
    return value
