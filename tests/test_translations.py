"""The Simplified Chinese catalogue covers every user-facing string, and is compiled."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

import relman

PACKAGE = Path(relman.__file__).resolve().parent
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
FIELD = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$')

needs_gettext = pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgfmt")),
    reason="needs GNU gettext (Debian package gettext; .ci/run installs it)",
)


def untranslated(po: str) -> list[str]:
    """The msgids of a catalogue's entries that have no translation or are fuzzy."""
    missing = []
    for block in re.split(r"\n\s*\n", po):
        fields: dict[str, str] = {}
        key, fuzzy = None, False
        for line in block.strip().splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            elif match := FIELD.match(line):
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if not fields.get("msgid"):
            continue  # the header, or an obsolete entry
        translations = [v for k, v in fields.items() if k.startswith("msgstr")]
        if fuzzy or not translations or "" in translations:
            missing.append(fields["msgid"])
    return missing


@needs_gettext
def test_every_string_in_the_code_has_a_chinese_translation(tmp_path):
    copy = tmp_path / "relman"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    django_admin = Path(sys.executable).with_name("django-admin")
    subprocess.run(
        [str(django_admin), "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "relman.settings"},
    )
    missing = untranslated((copy / "locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8"))
    assert not missing, "untranslated (run `make messages`, then translate): " + " | ".join(missing)


@needs_gettext
def test_the_compiled_catalogue_matches_its_source(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(CATALOGUE)], check=True)
    assert compiled.read_bytes() == CATALOGUE.with_suffix(".mo").read_bytes(), (
        "django.mo is stale: run `make messages`"
    )


def test_the_counter_finds_an_untranslated_entry():
    po = 'msgid ""\nmsgstr "header"\n\nmsgid "Done"\nmsgstr ""\n\n#, fuzzy\nmsgid "Old"\nmsgstr "旧"\n'
    assert untranslated(po) == ["Done", "Old"]


def test_the_catalogue_is_loaded():
    with translation.override("zh-hans"):
        assert translation.gettext("Release manager") == "发布经理"


def test_translation_functions_keep_the_names_makemessages_looks_for():
    """makemessages finds strings only in calls of `_`, `gettext`, `gettext_lazy`, ...; a
    string marked through another alias would silently stay English."""
    alias = re.compile(
        r"from django\.utils\.translation import .*\b(?:n?gettext(?:_lazy)?|pgettext(?:_lazy)?)"
        r" as (?!_\b)\w+"
    )
    found = [
        f"{path.relative_to(PACKAGE)}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if alias.search(line)
    ]
    assert not found, found
