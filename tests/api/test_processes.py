"""The process endpoints: open to every signed-in user, since procedures are reference data."""

from __future__ import annotations

import pytest

from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call
from tests.processes.test_loader import SAMPLE

pytestmark = pytest.mark.django_db


def lists_the_presets(response, world: World) -> None:
    assert {p["name"] for p in response.json()} >= {"mof", "hhlc", "feh", "tfdl"}
    assert all(p["version"] == 1 for p in response.json())


def is_the_schema(response, world: World) -> None:
    assert response.json()["title"] == "relman process definition"


def is_valid(response, world: World) -> None:
    assert response.json() == {"valid": True, "problems": []}


def shows_hhlc(response, world: World) -> None:
    body = response.json()
    assert (body["name"], body["version"]) == ("hhlc", 1)
    assert set(body["mermaid"]) == {"emergency", "major", "standard"}
    assert "summary_close -->|close| closed" in body["mermaid"]["standard"]


class TestProcessEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint("list", "GET", f"{API}/processes", "nobody", check=lists_the_presets),
        Endpoint("schema", "GET", f"{API}/processes/schema", "nobody", check=is_the_schema),
        Endpoint(
            "validate",
            "POST",
            f"{API}/processes/validate",
            "nobody",
            body=lambda w: {"text": SAMPLE, "filename": "sample.yaml"},
            check=is_valid,
        ),
        Endpoint(
            "show",
            "GET",
            f"{API}/processes/{{name}}",
            "nobody",
            params=lambda w: {"name": "hhlc"},
            check=shows_hhlc,
        ),
    )


def test_validate_names_the_line_and_field_of_each_problem(world):
    broken = SAMPLE.replace("roles: [tester]", "roles: [dragon]")
    response = call(
        world.client("nobody"),
        "POST",
        f"{API}/processes/validate",
        body={"text": broken, "filename": "mine.yaml"},
    )
    assert response.status_code == 200
    (problem,) = response.json()["problems"]
    assert response.json()["valid"] is False
    assert problem["file"] == "mine.yaml"
    assert problem["field"] == "variants.0.stages.1.roles.0"
    assert problem["line"] == broken.splitlines().index("        roles: [dragon]") + 1


def test_an_unknown_process_is_a_404(world):
    response = call(
        world.client("nobody"), "GET", f"{API}/processes/{{name}}", params={"name": "nope"}
    )
    assert response.status_code == 404
    assert response.json()["errors"] == {"process": ["There is no process named 'nope'."]}


@pytest.mark.parametrize(
    "text", ["name: !!python/object:os.system x\n", "? [a]\n: b\n", "[unclosed\n", "", "42\n"]
)
def test_validate_answers_every_text_with_problems_not_an_error(world, text):
    response = call(
        world.client("nobody"), "POST", f"{API}/processes/validate", body={"text": text}
    )
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["problems"][0]["line"] >= 1
