"""A new kind of gate is one module in its app and one line in RELMAN_GATES: with the
throw-away `impact_described` gate of tests/gateapp installed, a process uses it, advancing
is refused naming it, the release's page and API detail list it, and `relman process
validate` names its bad options by file, line and field.

    review [impact_described: {min_words: 3}] --advance--> done
"""

from __future__ import annotations

import pytest
from django.test import Client
from typer.testing import CliRunner

from relman.cli.main import app as relman_app
from relman.cli.output import ExitCode
from relman.core.errors import GateNotMet
from relman.processes import engine, gates
from relman.processes.definition import ADVANCE, Stage, Variant
from relman.processes.loader import InvalidProcess, schema, validate_file
from relman.processes.services import BUILTIN_ROLES, load_processes
from relman.releases import services as releases
from tests import factories
from tests.gateapp.gates import ImpactDescribedGate

GATE = "tests.gateapp.gates.ImpactDescribedGate"
REFUSAL = "Stage 'Review' needs an impact review of 3 words (has 1)."

PROCESS = """\
name: impact
label: {en: Impact, zh-hans: 影响}
variants:
  - key: standard
    label: {en: Standard, zh-hans: 标准}
    stages:
      - key: review
        label: {en: Review, zh-hans: 评审}
        roles: [release_manager]
        gates:
          impact_described: {min_words: %s}
      - key: done
        label: {en: Done, zh-hans: 完成}
        roles: [release_manager]
"""


@pytest.fixture
def with_gate(settings):
    settings.RELMAN_GATES = [*settings.RELMAN_GATES, GATE]
    yield
    # pytest-django restores RELMAN_GATES; the processes app reinstalls the shipped gates.


def test_the_gate_is_pure_and_says_what_is_missing():
    gate = ImpactDescribedGate()
    flow = Variant(
        "v",
        {"en": "V"},
        (Stage("review", {"en": "Review"}, ("worker",), impact_described=3), Stage("done", {}, ())),
    )
    catalogue = gates.Catalogue([gate])
    short = engine.Snapshot("upgrade", "planned", "standard", "review", impact_words=1)
    found = engine.refusals(flow, short, ADVANCE, {"worker"}, gates=catalogue)
    assert [r.unmet for r in found] == [(engine.Unmet("impact", "review", 3, 1),)]
    assert found[0].unmet[0].gate == "impact_described"
    enough = engine.Snapshot("upgrade", "planned", "standard", "review", impact_words=3)
    assert engine.refusals(flow, enough, ADVANCE, {"worker"}, gates=catalogue) == []


def test_without_the_gate_installed_its_key_is_refused(tmp_path):
    path = tmp_path / "impact.yaml"
    path.write_text(PROCESS % 3, encoding="utf-8")
    with pytest.raises(InvalidProcess) as refused:
        validate_file(path, BUILTIN_ROLES)
    assert [(p.line, p.field, p.message) for p in refused.value.problems] == [
        (11, "variants.0.stages.0.gates.impact_described", "unknown field 'impact_described'")
    ]


def test_the_published_schema_covers_the_installed_gates(with_gate):
    gates_schema = schema()["$defs"]["stage"]["properties"]["gates"]
    assert gates_schema["additionalProperties"] is False
    assert gates_schema["properties"]["impact_described"] == ImpactDescribedGate.schema
    assert {"deliverables", "approvals", "checklist", "scheduled", "readiness"} <= set(
        gates_schema["properties"]
    )


def test_process_validate_names_the_bad_option(with_gate, tmp_path, monkeypatch):
    path = tmp_path / "impact.yaml"
    path.write_text(PROCESS % 0, encoding="utf-8")
    monkeypatch.setenv("RELMAN_LANGUAGE", "en")

    result = CliRunner().invoke(relman_app, ["process", "validate", str(path)])

    assert result.exit_code == ExitCode.REFUSED
    assert (
        f"{path}:11: variants.0.stages.0.gates.impact_described.min_words: "
        "0 is less than the minimum of 1"
    ) in result.stderr.splitlines()


@pytest.mark.django_db
def test_a_release_is_held_by_the_new_gate_on_advance_page_and_api(with_gate, tmp_path):
    path = tmp_path / "impact.yaml"
    path.write_text(PROCESS % 3, encoding="utf-8")
    load_processes(files=[path])
    app = factories.application("imp", process="impact")
    manager = factories.user("imp-manager", "release_manager", app=app)
    release = factories.release(manager, app, impact="Minor")

    with pytest.raises(GateNotMet) as refused:
        releases.advance(manager, release, revision=release.revision)
    assert refused.value.unmet == [REFUSAL]

    client = Client()
    client.force_login(manager)
    page = client.get(f"/releases/{release.number}/").content.decode()
    assert REFUSAL.replace("'", "&#x27;") in page
    assert "Impact review" in page
    detail = client.get(f"/api/v1/releases/{release.number}").json()
    assert detail["unmet"] == [REFUSAL]
    assert [(g["kind"], g["key"], g["met"]) for g in detail["gate"]] == [
        ("impact", "review", False)
    ]
    advance = client.post(
        f"/api/v1/releases/{release.number}/actions/advance",
        {"revision": release.revision},
        content_type="application/json",
    )
    assert advance.status_code == 422
    assert advance.json()["unmet"] == [REFUSAL]

    release = releases.update_release(
        manager, release, revision=release.revision, impact="Three whole words"
    )
    release = releases.advance(manager, release, revision=release.revision)
    assert release.stage == "done"
