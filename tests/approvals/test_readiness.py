"""The release readiness review (seed 000): go / no-go against the release criteria.

    planning_and_building --> preparation --> readiness_review --> deployment --> review
                                               gate: readiness "go" + CAB

Seed 000 (MOF) decides readiness at a review against the release criteria: quality of the
release, package readiness, production environment readiness, training and support plans,
rollout and backout plans, risk management plan.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from relman.approvals.models import ReadinessCriterion, ReadinessReview
from relman.approvals.services import readiness
from relman.audit.models import AuditEvent
from relman.core.errors import Conflict, GateNotMet, PermissionDenied, ValidationFailed
from relman.processes import services as processes
from relman.releases import services as releases
from tests import factories

MOF_CRITERIA = (
    "release_quality",
    "package_readiness",
    "production_environment_readiness",
    "training_and_support_plans",
    "rollout_and_backout_plans",
    "risk_management_plan",
)

# A small process around a readiness review: one criterion evidenced by a deliverable no
# gate asks for, one by a checklist item ticked in the stage before, one by nothing.
#
#     prepare (tick prod_prepared) --> review (readiness: go) --> deploy
READY_PROCESS = """
name: ready
label: {en: Readiness check, zh-hans: 就绪检查}
deliverables:
  test_report: {en: Test report, zh-hans: 测试报告}
checklist:
  prod_prepared: {en: Production prepared, zh-hans: 生产环境已准备}
  staff_trained: {en: Staff trained, zh-hans: 人员已培训}
readiness_criteria:
  quality:
    label: {en: Quality of the release, zh-hans: 发布质量}
    deliverable: test_report
  production:
    label: {en: Production environment readiness, zh-hans: 生产环境就绪}
    checklist: prod_prepared
  risk:
    label: {en: Risk management plan, zh-hans: 风险管理计划}
variants:
  - key: standard
    label: {en: Standard, zh-hans: 标准}
    stages:
      - key: prepare
        label: {en: Preparation, zh-hans: 准备}
        roles: [release_manager, change_owner]
        gates:
          checklist: [prod_prepared]
      - key: review
        label: {en: Readiness review, zh-hans: 就绪评审}
        roles: [release_manager, change_owner]
        gates:
          readiness: true
      - key: deploy
        label: {en: Deploy, zh-hans: 部署}
        roles: [release_manager, operations]
"""


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


# ---------------------------------------------------------------- seed 000 (mof)


@pytest.fixture
def shop(presets):
    return factories.application("shop", process="mof")


@pytest.fixture
def requester(shop):
    """Requests the release, and holds a role of the review stage too."""
    return factories.user("rita", "requester", "change_owner", app=shop)


@pytest.fixture
def crew(shop):
    """Release manager, change owner, CAB member ... of shop: runs the review."""
    return factories.crew(shop, "carl")


@pytest.fixture
def at_review(shop, requester, crew):
    """A mof release walked to its readiness review: every deliverable and check done."""
    release = factories.release(requester, shop, title="Payroll 3.0")
    release = factories.walk_to(crew, release, "readiness_review")
    factories.carry_approved_change(crew, release)  # its changes_approved gate is met
    return release


def all_met(keys=MOF_CRITERIA, **overrides):
    """Every criterion met on its suggested evidence, with `overrides` per criterion."""
    return {key: overrides.get(key, {"met": True}) for key in keys}


def gate_item(user, release, kind):
    release.refresh_from_db()
    state = releases.release_state(user, release)
    return next(item for item in state.gate if item["kind"] == kind)


def test_a_no_go_with_its_unmet_criterion_and_later_a_go(at_review, crew):
    """Done when: a seed 000 readiness review records a no-go with its unmet criterion and
    later a go."""
    no_go = readiness.record_review(
        crew,
        at_review,
        decision="no_go",
        criteria=all_met(
            training_and_support_plans={
                "met": False,
                "note": "The night shift of the service desk is not trained yet.",
            }
        ),
        note="Train the night shift first.",
    )
    judged = {c.key: c for c in no_go.criteria.select_related("deliverable_version__deliverable")}
    assert set(judged) == set(MOF_CRITERIA)
    assert not judged["training_and_support_plans"].met
    assert judged["training_and_support_plans"].note.startswith("The night shift")
    assert all(judged[k].met for k in MOF_CRITERIA if k != "training_and_support_plans")
    # Suggested evidence taken from the release: the package, the definitive store check.
    assert judged["release_quality"].deliverable_version.deliverable.key == "release_package"
    assert judged["package_readiness"].checklist_item == "package_in_definitive_store"
    assert judged["production_environment_readiness"].checklist_item == "production_prepared"
    assert not readiness.is_ready(at_review)

    at_review.refresh_from_db()
    with pytest.raises(GateNotMet) as refused:
        releases.advance(crew, at_review, revision=at_review.revision)
    assert "readiness review decided 'go'" in refused.value.message
    assert not gate_item(crew, at_review, "readiness")["met"]

    go = readiness.record_review(
        crew,
        at_review,
        decision="go",
        criteria=all_met(
            release_quality={"met": True, "deliverable": "release_package"},
            training_and_support_plans={
                "met": True,
                "deliverable": "training_and_support_plan",
                "note": "Night shift trained on 12 May.",
            },
            risk_management_plan={"met": True, "deliverable": "risk_management_plan"},
        ),
    )
    assert go.decision == ReadinessReview.GO
    assert readiness.is_ready(at_review)
    assert gate_item(crew, at_review, "readiness")["met"]
    at_review.refresh_from_db()
    with pytest.raises(GateNotMet) as still:  # the CAB has not decided yet
        releases.advance(crew, at_review, revision=at_review.revision)
    assert still.value.unmet == [
        "Stage 'Release readiness review' needs 1 approval(s) by 'CAB member' (has 0)."
    ]

    events = list(AuditEvent.objects.filter(action__startswith="readiness.").order_by("seq"))
    assert [e.action for e in events] == ["readiness.no_go", "readiness.go"]
    assert events[0].after["criteria"]["training_and_support_plans"] == {
        "met": False,
        "deliverable": "training_and_support_plan",
        "version": 1,
        "checklist": None,
        "note": "The night shift of the service desk is not trained yet.",
    }
    assert events[0].reason == "Train the night shift first."
    assert events[0].release_number == at_review.number
    assert events[1].before == {"review": no_go.pk, "decision": "no_go"}
    assert events[1].after["decision"] == "go"
    assert events[1].after["criteria"]["package_readiness"] == {
        "met": True,
        "deliverable": None,
        "version": None,
        "checklist": "package_in_definitive_store",
        "note": "",
    }
    assert events[1].actor_id == crew.pk


def test_the_requester_may_not_decide_readiness(at_review, requester):
    with pytest.raises(PermissionDenied) as refused:
        readiness.record_review(requester, at_review, decision="go", criteria=all_met())
    assert "requested release" in refused.value.message
    assert not ReadinessReview.objects.exists()


def test_roles_outside_the_stage_may_not_decide(at_review, shop):
    tester = factories.user("tess", "tester", app=shop)
    auditor = factories.user("audrey", "auditor")
    for person in (tester, auditor):
        with pytest.raises(PermissionDenied) as refused:
            readiness.record_review(person, at_review, decision="go", criteria=all_met())
        assert refused.value.message == (
            "Only these roles may decide the readiness of this release: "
            "Release manager, Change owner, CAB member."
        )
    assert not AuditEvent.objects.filter(action__startswith="readiness.").exists()


def test_the_stage_must_hold_a_readiness_review(shop, requester, crew):
    release = factories.release(requester, shop)
    with pytest.raises(Conflict) as refused:
        readiness.record_review(crew, release, decision="go", criteria=all_met())
    assert "Release planning and building" in refused.value.message
    assert "no readiness review" in refused.value.message


def test_a_closed_release_takes_no_review(shop, requester, crew):
    release = factories.walk_to(crew, factories.release(requester, shop), "readiness_review")
    releases.cancel(crew, release, reason="Dropped", revision=release.revision)
    with pytest.raises(Conflict):
        readiness.record_review(crew, release, decision="go", criteria=all_met())


def test_an_invisible_release_is_not_found(at_review):
    from relman.core.errors import NotFound

    stranger = factories.user("nina")
    with pytest.raises(NotFound):
        readiness.record_review(stranger, at_review.number, decision="go", criteria=all_met())


# ---------------------------------------------------------------- the small process


@pytest.fixture
def ready_app(db, tmp_path):
    path = tmp_path / "ready.yaml"
    path.write_text(READY_PROCESS, encoding="utf-8")
    processes.load_processes(files=[path])
    return factories.application("desk", process="ready")


@pytest.fixture
def manager(ready_app):
    return factories.user("max", "release_manager", "operations", app=ready_app)


@pytest.fixture
def in_review(ready_app, manager):
    requester = factories.user("rob", "requester", app=ready_app)
    release = factories.release(requester, ready_app, title="Desk 2")
    return factories.walk_to(manager, release, "review")


def refused_with(errors_of, *args, **kwargs) -> dict[str, list[str]]:
    """The field errors of a refused review; nothing was written."""
    reviews, events = ReadinessReview.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        readiness.record_review(*args, **kwargs)
    assert ReadinessReview.objects.count() == reviews
    assert ReadinessCriterion.objects.filter(review__isnull=True).count() == 0
    assert AuditEvent.objects.count() == events
    errors_of.append(refused.value.message)
    return refused.value.errors


def test_a_go_lets_the_release_advance(in_review, manager):
    releases.add_deliverable(manager, in_review, key="test_report", upload=factories.upload())
    in_review.refresh_from_db()
    with pytest.raises(GateNotMet) as refused:
        releases.advance(manager, in_review, revision=in_review.revision)
    assert refused.value.unmet == [
        "Stage 'Readiness review' needs a readiness review decided 'go'."
    ]
    readiness.record_review(
        manager,
        in_review,
        decision="go",
        criteria={
            "quality": {"met": True},
            "production": {"met": True},
            "risk": {"met": True, "note": "Risks reviewed with the business owner."},
        },
    )
    in_review.refresh_from_db()
    moved = releases.advance(manager, in_review, revision=in_review.revision)
    assert moved.stage == "deploy"


def test_every_criterion_must_be_judged(in_review, manager):
    said = []
    errors = refused_with(
        said, manager, in_review, decision="no_go", criteria={"quality": {"met": False}}
    )
    assert "Production environment readiness" in errors["criteria"][0]
    assert "Risk management plan" in errors["criteria"][0]
    assert said[0].startswith("criteria: Judge every release criterion")


def test_an_unknown_criterion_is_refused(in_review, manager):
    criteria = {
        "quality": {"met": False},
        "production": {"met": True},
        "risk": {"met": True, "note": "ok"},
        "budget": {"met": True},
    }
    errors = refused_with([], manager, in_review, decision="no_go", criteria=criteria)
    assert "'budget' is not a release criterion" in errors["criteria.budget"][0]
    for key in ("quality", "production", "risk"):
        assert key in errors["criteria.budget"][0].split("Its criteria:")[1]


def test_met_needs_evidence(in_review, manager):
    """No test report on the release, no note: 'quality' and 'risk' have nothing to rest on;
    'production' rests on the check ticked in the stage before."""
    errors = refused_with(
        [],
        manager,
        in_review,
        decision="go",
        criteria={"quality": {"met": True}, "production": {"met": True}, "risk": {"met": True}},
    )
    assert (
        "'Quality of the release' is marked met without evidence" in errors["criteria.quality"][0]
    )
    assert "criteria.risk" in errors
    assert "criteria.production" not in errors


def test_named_evidence_must_exist(in_review, manager):
    errors = refused_with(
        [],
        manager,
        in_review,
        decision="go",
        criteria={
            "quality": {"met": True, "deliverable": "test_report"},
            "production": {"met": True, "checklist": "staff_trained"},
            "risk": {"met": True, "deliverable": "minutes", "checklist": "bogus"},
        },
    )
    assert "The release has no 'Test report' yet" in errors["criteria.quality.deliverable"][0]
    assert "'Staff trained' is not done" in errors["criteria.production.checklist"][0]
    assert "'minutes' is not a deliverable" in errors["criteria.risk.deliverable"][0]
    assert "'bogus' is not a checklist item" in errors["criteria.risk.checklist"][0]


def test_go_needs_every_criterion_met(in_review, manager):
    said = []
    errors = refused_with(
        said,
        manager,
        in_review,
        decision="go",
        criteria={
            "quality": {"met": False, "note": "Two open defects."},
            "production": {"met": True},
            "risk": {"met": False},
        },
    )
    assert list(errors) == ["decision"]
    said = errors["decision"][0]
    assert said.startswith("'Go' needs every criterion met; not met: ")
    assert "Quality of the release" in said and "Risk management plan" in said
    assert "Production" not in said


def test_no_go_needs_an_unmet_criterion_or_a_reason(in_review, manager):
    releases.add_deliverable(manager, in_review, key="test_report", upload=factories.upload())
    criteria = {
        "quality": {"met": True},
        "production": {"met": True},
        "risk": {"met": True, "note": "ok"},
    }
    errors = refused_with([], manager, in_review, decision="no_go", criteria=criteria)
    assert "say in the note why" in errors["note"][0]
    review = readiness.record_review(
        manager, in_review, decision="no_go", criteria=criteria, note="The CAB asked to wait."
    )
    assert review.decision == "no_go"


def test_bad_input_is_refused_before_anything_is_read(in_review, manager):
    errors = refused_with([], manager, in_review, decision="maybe", criteria=[])
    assert set(errors) == {"decision", "criteria"}
    errors = refused_with(
        [],
        manager,
        in_review,
        decision="no_go",
        criteria={"quality": {"met": "yes"}, "production": "met", "risk": {"met": True}},
    )
    assert "Say whether 'Quality of the release' is met" in errors["criteria.quality.met"][0]
    assert "criteria.production" in errors
    errors = refused_with(
        [],
        manager,
        in_review,
        decision="no_go",
        criteria={
            "quality": {"met": False, "note": "x" * 1001},
            "production": {"met": True},
            "risk": {"met": False},
        },
    )
    assert errors["criteria.quality.note"] == ["At most 1000 characters."]


def test_suggested_evidence_is_the_latest_version(in_review, manager):
    for content in (b"v1\n", b"v2\n"):
        releases.add_deliverable(
            manager, in_review, key="test_report", upload=factories.upload("r.txt", content)
        )
    review = readiness.record_review(
        manager,
        in_review,
        decision="go",
        criteria={
            "quality": {"met": True},
            "production": {"met": True},
            "risk": {"met": True, "note": "ok"},
        },
    )
    quality = review.criteria.get(key="quality")
    assert quality.deliverable_version.number == 2
    # Evidence named by the caller replaces the suggestion.
    review = readiness.record_review(
        manager,
        in_review,
        decision="go",
        criteria={
            "quality": {"met": True, "note": "Accepted by the users."},
            "production": {"met": True},
            "risk": {"met": True, "checklist": "prod_prepared"},
        },
    )
    assert review.criteria.get(key="risk").checklist_item == "prod_prepared"
    assert review.criteria.get(key="quality").deliverable_version.number == 2


def test_a_later_review_supersedes_the_earlier(in_review, manager):
    releases.add_deliverable(manager, in_review, key="test_report", upload=factories.upload())
    met = {
        "quality": {"met": True},
        "production": {"met": True},
        "risk": {"met": True, "note": "ok"},
    }
    readiness.record_review(manager, in_review, decision="go", criteria=met)
    assert readiness.is_ready(in_review)
    readiness.record_review(
        manager, in_review, decision="no_go", criteria=met, note="A new risk came up."
    )
    assert not readiness.is_ready(in_review)
    readiness.record_review(manager, in_review, decision="go", criteria=met)
    assert readiness.is_ready(in_review)
    state = readiness.readiness_state(manager, in_review)
    assert [(r.decision, r.current, r.superseded) for r in state.history] == [
        ("go", True, False),
        ("no_go", False, True),
        ("go", False, True),
    ]
    assert state.latest.id == state.history[0].id
    assert state.ready


def test_returning_to_an_earlier_stage_voids_the_review(in_review, manager):
    releases.add_deliverable(manager, in_review, key="test_report", upload=factories.upload())
    met = {
        "quality": {"met": True},
        "production": {"met": True},
        "risk": {"met": True, "note": "ok"},
    }
    review = readiness.record_review(manager, in_review, decision="go", criteria=met)
    in_review.refresh_from_db()
    releases.return_to_stage(
        manager,
        in_review,
        stage="prepare",
        reason="Production changed.",
        revision=in_review.revision,
    )
    review.refresh_from_db()
    assert review.voided is not None
    back = factories.walk_to(manager, in_review, "review")
    assert not readiness.is_ready(back)
    assert not gate_item(manager, back, "readiness")["met"]
    state = readiness.readiness_state(manager, back)
    assert state.latest is None
    assert state.history[0].voided is not None and not state.history[0].current


def test_the_state_names_criteria_and_evidence_in_the_users_language(in_review, manager):
    state = readiness.readiness_state(manager, in_review)
    assert state.applies and state.can_decide and not state.ready
    # Compared as a mapping: PostgreSQL's jsonb does not keep the order of the file's keys.
    criteria = {c.key: c for c in state.criteria}
    assert {k: c.label for k, c in criteria.items()} == {
        "quality": "Quality of the release",
        "production": "Production environment readiness",
        "risk": "Risk management plan",
    }
    quality, production, risk = criteria["quality"], criteria["production"], criteria["risk"]
    assert (quality.deliverable.key, quality.deliverable.present) == ("test_report", False)
    assert (production.checklist.key, production.checklist.present) == ("prod_prepared", True)
    assert risk.deliverable is None and risk.checklist is None
    assert state.checklist == [("prod_prepared", "Production prepared")]
    with translation.override("zh-hans"):
        state = readiness.readiness_state(manager, in_review)
        criteria = {c.key: c for c in state.criteria}
        assert criteria["quality"].label == "发布质量"
        assert criteria["production"].checklist.label == "生产环境已准备"
        with pytest.raises(ValidationFailed) as refused:
            readiness.record_review(manager, in_review, decision="go", criteria={})
        assert "发布质量" in refused.value.message


def test_the_state_says_why_a_user_may_not_decide(in_review, ready_app):
    requester = in_review.requester
    state = readiness.readiness_state(requester, in_review)
    assert not state.can_decide and "requested release" in state.why_not
    early = factories.release(requester, ready_app)
    state = readiness.readiness_state(requester, early)
    assert not state.applies and "has no readiness review" in state.why_not
