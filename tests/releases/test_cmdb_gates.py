"""The CMDB gates (`impact_reviewed`, `cmdb_updated`) and the deployed versions a release
leaves behind: installed when it closes as succeeded, put back when it is rolled back.

    review [impact_reviewed: {role: release_manager}] --> record [cmdb_updated: {}] --> done
"""

from __future__ import annotations

import pytest
from django.test import Client

from relman.audit.models import AuditEvent
from relman.cmdb.models import DeployedVersion
from relman.core.errors import GateNotMet, PermissionDenied
from relman.processes import engine
from relman.processes.definition import Stage, Variant
from relman.processes.loader import InvalidProcess, validate_file
from relman.processes.services import BUILTIN_ROLES, load_processes
from relman.releases import services
from relman.releases.gates import CmdbUpdatedGate, ImpactReviewedGate
from tests import factories

pytestmark = pytest.mark.django_db

PROCESS = """\
name: scoped
label: {en: Scoped, zh-hans: 范围}
variants:
  - key: standard
    label: {en: Standard, zh-hans: 标准}
    stages:
      - key: review
        label: {en: Review, zh-hans: 评审}
        roles: [requester, release_manager]
        gates:
          impact_reviewed: {role: %s}
      - key: record
        label: {en: Record, zh-hans: 记录}
        roles: [requester, release_manager]
        gates:
          cmdb_updated: {}
      - key: done
        label: {en: Done, zh-hans: 完成}
        roles: [requester, release_manager]
"""


@pytest.fixture
def scoped(tmp_path, presets):
    path = tmp_path / "scoped.yaml"
    path.write_text(PROCESS % "release_manager", encoding="utf-8")
    load_processes(files=[path])
    return factories.application("shop", process="scoped")


@pytest.fixture
def people(scoped):
    return {
        "requester": factories.user("sam", "requester", app=scoped),
        "manager": factories.user("mia", "release_manager", app=scoped),
        "tester": factories.user("tim", "tester", app=scoped),
    }


@pytest.fixture
def items():
    db = factories.ci("shop-db", "database")
    app = factories.ci("shop-app", "server")
    factories.depends(app, db, "runs_on")
    return {"db": db, "app": app}


def test_the_impact_gate_is_pure():
    gate = ImpactReviewedGate()
    options = gate.options({"role": "release_manager"})
    flow = Variant(
        "v", {"en": "V"}, (Stage("review", {"en": "R"}, ("w",), impact_reviewed=options),)
    )
    now = {"touched": [1], "affected": [2]}

    def unmet(review):
        snap = engine.Snapshot(
            "upgrade", "planned", "standard", "review", impact_review=review, impact_now=now
        )
        return [u.key for u in gate.evaluate(options, snap)]

    assert unmet(None) == ["review"]
    assert unmet({"roles": ["tester"], "touched": [1], "affected": [2]}) == ["review"]
    assert unmet({"roles": ["release_manager"], "touched": [1], "affected": []}) == ["changed"]
    assert unmet({"roles": ["release_manager"], "touched": [1], "affected": [2]}) == []
    assert flow.stages[0].option("impact_reviewed").role == "release_manager"
    assert gate.options(False) is None
    assert CmdbUpdatedGate().options({}) and CmdbUpdatedGate().options(True)
    assert CmdbUpdatedGate().options(False) is None


def test_an_unknown_reviewer_role_is_named_by_line(tmp_path):
    path = tmp_path / "scoped.yaml"
    path.write_text(PROCESS % "wizard", encoding="utf-8")
    with pytest.raises(InvalidProcess) as refused:
        validate_file(path, BUILTIN_ROLES)
    assert [(p.line, p.field, p.message) for p in refused.value.problems] == [
        (11, "variants.0.stages.0.gates.impact_reviewed.role", "unknown role 'wizard'")
    ]


def test_a_stage_waits_for_the_impact_reviewed_by_the_role(scoped, people, items):
    requester, manager, tester = people["requester"], people["manager"], people["tester"]
    release = factories.release(requester, scoped, version_number="2.0")
    services.change_items(requester, release, "set", ["shop-db"])
    refusal = "Stage 'Review' needs the impact of the release reviewed by 'Release manager'."
    with pytest.raises(GateNotMet) as refused:
        services.advance(requester, release, revision=None)
    assert refused.value.unmet == [refusal]
    with pytest.raises(PermissionDenied, match="Release manager"):
        services.review_impact(tester, release)
    services.review_impact(manager, release)
    # Changing the items voids the review; the gate asks for a new one.
    services.change_items(requester, release, "add", ["shop-app"])
    with pytest.raises(GateNotMet):
        services.advance(requester, release, revision=None)
    services.review_impact(manager, release)
    # The CMDB changed since: the review saw another impact.
    factories.depends(factories.ci("shop-web", "service"), items["app"])
    with pytest.raises(GateNotMet) as refused:
        services.advance(requester, release, revision=None)
    assert "changed since it was reviewed" in refused.value.unmet[0]
    services.review_impact(manager, release)
    release = services.advance(requester, release, revision=None)
    assert release.stage == "record"


def test_the_cmdb_gate_names_the_items_not_yet_updated(scoped, people, items):
    requester, manager = people["requester"], people["manager"]
    release = factories.release(requester, scoped, version_number="2.0")
    services.change_items(requester, release, "set", ["shop-db", "shop-app"])
    services.review_impact(manager, release)
    release = services.advance(requester, release, revision=None)
    with pytest.raises(GateNotMet) as refused:
        services.advance(requester, release, revision=None)
    assert refused.value.unmet == [
        "Stage 'Record' needs the deployed version on 'shop-app' recorded in the CMDB.",
        "Stage 'Record' needs the deployed version on 'shop-db' recorded in the CMDB.",
    ]
    client = Client()
    client.force_login(requester)
    detail = client.get(f"/api/v1/releases/{release.number}").json()
    assert [(g["kind"], g["key"], g["met"]) for g in detail["gate"]] == [
        ("cmdb", "shop-app", False),
        ("cmdb", "shop-db", False),
    ]
    changed = services.record_deployed(manager, release, items=["shop-db"])
    assert [ci.name for ci in changed] == ["shop-db"]
    with pytest.raises(GateNotMet) as refused:
        services.advance(requester, release, revision=None)
    assert [line.split("'")[3] for line in refused.value.unmet] == ["shop-app"]
    # Recording again leaves the item this release updated as it is.
    changed = services.record_deployed(manager, release)
    assert [ci.name for ci in changed] == ["shop-app"]
    assert DeployedVersion.objects.filter(release=release).count() == 2
    release = services.advance(requester, release, revision=None)
    assert release.stage == "done"


def test_closing_as_succeeded_installs_the_version_on_every_touched_item(scoped, people, items):
    requester, manager = people["requester"], people["manager"]
    old = factories.deployed(items["app"], scoped, "1.9")
    release = factories.release(requester, scoped, version_number="2.0")
    services.change_items(requester, release, "set", ["shop-db"])
    services.review_impact(manager, release)
    release = services.advance(requester, release, revision=None)
    services.record_deployed(manager, release)
    release = services.advance(requester, release, revision=None)
    services.change_items(requester, release, "add", ["shop-app"])  # found late
    release = services.close(requester, release, revision=None)
    assert release.outcome == "succeeded"
    history = list(
        DeployedVersion.objects.filter(ci=items["app"])
        .order_by("id")
        .values_list("version", "release__number", "removed", "previous_id")
    )
    assert history[0][:2] == ("1.9", None) and history[0][2] is not None
    assert history[1] == ("2.0", release.number, None, old.pk)
    assert DeployedVersion.objects.filter(ci=items["db"], removed__isnull=True).get().release == (
        release
    )
    event = AuditEvent.objects.filter(release=release, action="release.cmdb_updated").last()
    assert event.after == {"application": "shop", "versions": {"shop-app": "2.0"}, "on": "close"}


def test_closing_as_failed_installs_nothing(scoped, people, items):
    requester, manager = people["requester"], people["manager"]
    release = factories.release(requester, scoped, version_number="2.0")
    services.review_impact(manager, release)
    release = services.advance(requester, release, revision=None)
    release = services.advance(requester, release, revision=None)  # touches nothing yet
    services.change_items(requester, release, "set", ["shop-db"])
    release = services.close(
        requester, release, outcome="failed", reason="Did not start", revision=None
    )
    assert release.outcome == "failed"
    assert not DeployedVersion.objects.filter(release=release).exists()


def test_a_rollback_puts_the_previous_versions_back(presets, items):
    app = factories.application("crm", process="tfdl")
    crew = factories.crew(app, "carl")
    requester = factories.user("rita", "requester", app=app)
    old = factories.deployed(items["app"], app, "5.1")
    release = factories.release(requester, app, version_number="5.2")
    services.change_items(requester, release, "set", ["shop-app", "shop-db"])
    release = factories.walk_to(crew, release, "deployment")
    services.record_deployed(crew, release)
    assert DeployedVersion.objects.get(ci=items["app"], removed__isnull=True).version == "5.2"

    release = services.roll_back(crew, release, reason="Smoke test failed", revision=None)

    assert release.outcome == "rolled_back"
    current = DeployedVersion.objects.get(ci=items["app"], removed__isnull=True)
    assert (current.version, current.release, current.note) == (
        "5.1",
        None,
        f"restored by rollback of {release.number}",
    )
    assert current.previous.release == release and current.previous.removed is not None
    assert not DeployedVersion.objects.filter(ci=items["db"], removed__isnull=True).exists()
    assert DeployedVersion.objects.filter(ci=items["app"]).count() == 3  # history keeps all
    old.refresh_from_db()
    assert old.removed is not None
    event = AuditEvent.objects.get(release=release, action="release.cmdb_restored")
    assert event.before == {"versions": {"shop-app": "5.2", "shop-db": "5.2"}}
    assert event.after == {"versions": {"shop-app": "5.1"}}


def test_tfdl_holds_the_cmdb_update_stage_until_the_versions_are_recorded(presets, items):
    app = factories.application("crm", process="tfdl")
    crew = factories.crew(app, "carl")
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app, version_number="5.2")
    services.change_items(requester, release, "set", ["shop-db"])
    release = factories.walk_to(crew, release, "cmdb_update")
    services.complete_checklist_item(crew, release, item="cmdb_updated")
    with pytest.raises(GateNotMet) as refused:
        services.advance(crew, release, revision=None)
    assert refused.value.unmet == [
        "Stage 'Configuration library update' needs the deployed version on 'shop-db' "
        "recorded in the CMDB."
    ]
    services.record_deployed(crew, release)
    release = services.advance(crew, release, revision=None)
    assert release.stage == "close_and_report"


def test_a_tfdl_release_walked_to_the_end_leaves_one_current_version_per_item(presets, items):
    app = factories.application("crm", process="tfdl")
    crew = factories.crew(app, "carl")
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app, version_number="5.2")
    services.change_items(requester, release, "set", ["shop-app", "shop-db"])
    release = factories.walk_to(crew, release, "close_and_report")  # records at cmdb_update
    factories.meet_gate(crew, release)
    release = services.close(crew, release, revision=None)
    rows = DeployedVersion.objects.filter(release=release)
    assert sorted(rows.values_list("ci__name", "version", "removed")) == [
        ("shop-app", "5.2", None),
        ("shop-db", "5.2", None),
    ]
    assert not AuditEvent.objects.filter(release=release, after__on="close").exists()
