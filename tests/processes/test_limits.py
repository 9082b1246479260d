"""The process loader reads YAML within limits: size, values (aliases counted at each use),
nesting and time. A 'billion laughs' text once held the only worker for minutes."""

from __future__ import annotations

import json

import pytest

from relman.processes.loader import InvalidProcess, parse, validate_text
from tests import factories


def laughs(levels: int = 9) -> str:
    """A few hundred bytes that expand to 9**levels values when every alias is followed."""
    lines = ['l0: &l0 ["ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused_quickly_naming_the_limit():
    text = laughs()
    assert len(text) < 500
    with pytest.raises(InvalidProcess) as refused:
        validate_text(text, "laughs.yaml", set())
    (problem,) = refused.value.problems
    assert "more than 20000 values" in problem.message
    assert "aliases count each use" in problem.message


def test_aliases_within_the_limit_still_work():
    data, _lines, problems = parse("base: &b {a: 1}\nother: *b\n", "ok.yaml")
    assert problems == []
    assert data == {"base": {"a": 1}, "other": {"a": 1}}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: " + "x" * (300 * 1024), "larger than 256 KiB"),
        ("[" * 200 + "]" * 200, "nests deeper than 40 levels"),
        ("[" * 20000 + "]" * 20000, "nests deeper than 40 levels"),
    ],
    ids=["size", "depth", "deeper-than-the-parser"],
)
def test_size_and_depth_are_limited(text, words):
    _data, _lines, problems = parse(text, "big.yaml")
    assert any(words in p.message for p in problems), problems


def test_the_limits_are_settings(settings):
    settings.RELMAN_PROCESS_MAX_NODES = 50
    _data, _lines, problems = parse("items: [" + ", ".join(["1"] * 60) + "]\n", "f.yaml")
    assert "more than 50 values" in problems[0].message


@pytest.mark.django_db
def test_the_api_answers_the_bomb_with_the_limit(api_client):
    client = api_client(factories.user("nina"))
    response = client.post(
        "/api/v1/processes/validate",
        json.dumps({"text": laughs(), "filename": "laughs.yaml"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert "more than 20000 values" in body["problems"][0]["message"]
