"""The release services: every one writes its audit event and refuses what it must.

Most tests use the tfdl process (application crm). Its first stages:

    release_plan [deliverable release_plan, 6 checklist items]
      --> backout_plan [deliverable backout_plan, 5 checklist items]
      --> plan_review [approvals: department_approver, release_owner; checklist plan_review_held]
      --> test_acceptance --> ... --> deployment (rollback: ends rolled back) --> ...
      --> close_and_report
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone, translation

from relman.approvals.services import decisions
from relman.audit.models import AuditEvent
from relman.audit.services import verify_chain
from relman.core.choices import Channel
from relman.core.context import acting_through
from relman.core.errors import Conflict, GateNotMet, NotFound, PermissionDenied, ValidationFailed
from relman.processes.definition import pick
from relman.processes.messages import role_label, step_label
from relman.releases import services
from relman.releases.models import (
    Approval,
    ChecklistTick,
    Comment,
    DeliverableVersion,
    Release,
)
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def last_event(action: str | None = None) -> AuditEvent:
    events = AuditEvent.objects.order_by("-seq")
    if action:
        events = events.filter(action=action)
    return events.first()


def count_events() -> int:
    return AuditEvent.objects.count()


def stored_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def fresh(release: Release) -> Release:
    return Release.objects.get(pk=release.pk)


# ---------------------------------------------------------------- create_release


def test_create_release_numbers_places_and_records_it(requester, app):
    release = services.create_release(
        requester, application="crm", title="  Upgrade CRM  ", kind="upgrade", scope="all of it"
    )
    assert release.number == f"REL-{timezone.localdate().year}-0001"
    assert (release.title, release.stage, release.variant) == (
        "Upgrade CRM",
        "release_plan",
        "standard",
    )
    assert (release.status, release.revision, release.requester) == ("in_progress", 1, requester)
    event = last_event()
    assert event.action == "release.created"
    assert (event.actor, event.actor_name, event.channel) == (requester, "rita", "system")
    assert event.release == release
    assert event.release_number == release.number
    assert event.before is None
    assert event.after["number"] == release.number
    assert event.after["application"] == "crm"
    assert event.after["stage"] == "release_plan"
    assert event.after["process"] == "tfdl v1"
    assert event.after["scope"] == "all of it"


def test_release_numbers_are_sequential(requester, app):
    year = timezone.localdate().year
    numbers = [factories.release(requester, app).number for _ in range(3)]
    assert numbers == [f"REL-{year}-0001", f"REL-{year}-0002", f"REL-{year}-0003"]


def test_the_numbering_rule_may_number_each_application_apart(settings, requester, app, other_app):
    settings.RELMAN_RELEASE_NUMBER_FORMAT = "{app}-{year}-{seq:03}"
    other_requester = factories.user("olga", "requester", app=other_app)
    year = timezone.localdate().year
    numbers = [
        factories.release(requester, app).number,
        factories.release(other_requester, other_app).number,
        factories.release(requester, app).number,
    ]
    assert numbers == [f"CRM-{year}-001", f"HR-{year}-001", f"CRM-{year}-002"]


def test_create_release_through_a_channel_records_the_channel(requester, app):
    with acting_through(Channel.CLI, "req-123"):
        factories.release(requester, app)
    event = last_event("release.created")
    assert (event.channel, event.request_id) == ("cli", "req-123")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"kind": "firmware"}, "kind"),
        ({"method": "yolo"}, "method"),
        ({"release_class": "huge"}, "release_class"),
        ({"application": "nope"}, "application"),
        ({"application": None}, "application"),
        ({"risk": "extreme"}, "risk"),
        ({"version_number": "9" * 65}, "version_number"),
        ({"release_manager": "nobody"}, "release_manager"),
        ({"environment": "moon"}, "environment"),
        ({"planned_start": "tomorrow"}, "planned_start"),
    ],
)
def test_create_release_refuses_bad_input_naming_the_field(requester, app, change, field):
    values = {"application": "crm", "title": "Upgrade", "kind": "upgrade", **change}
    before = count_events()
    with pytest.raises(ValidationFailed) as refused:
        services.create_release(requester, **values)
    assert field in refused.value.errors
    assert refused.value.errors[field][0]
    assert not Release.objects.exists()
    assert count_events() == before


def test_create_release_refuses_an_end_before_the_start(requester, app):
    start = timezone.now()
    with pytest.raises(ValidationFailed) as refused:
        factories.release(
            requester, app, planned_start=start, planned_end=start - timedelta(hours=1)
        )
    assert refused.value.errors == {"planned_end": ["The end is before the start."]}


def test_create_release_refuses_unknown_fields(requester, app):
    with pytest.raises(ValidationFailed, match="status"):
        factories.release(requester, app, status="closed")


def test_create_release_refuses_a_retired_application(requester, app):
    app.is_active = False
    app.save()
    with pytest.raises(ValidationFailed) as refused:
        factories.release(requester, app)
    assert "application" in refused.value.errors


@pytest.mark.parametrize("who", ["auditor", "outsider", "nobody", "tester"])
def test_create_release_needs_a_creating_role_for_the_application(request, app, who):
    actor = {
        "auditor": lambda: request.getfixturevalue("auditor"),
        "outsider": lambda: request.getfixturevalue("outsider"),
        "nobody": lambda: factories.user("nobody"),
        "tester": lambda: factories.user("tess", "tester", app=app),
    }[who]()
    before = count_events()
    with pytest.raises(PermissionDenied):
        factories.release(actor, app)
    assert not Release.objects.filter(application=app).exists()
    assert count_events() == before


def test_a_flow_is_chosen_by_kind_method_and_class(presets):
    app = factories.application("core", process="hhlc")
    requester = factories.user("rex", "requester", app=app)
    chosen = {
        (kind, method, cls): factories.release(
            requester, app, kind=kind, method=method, release_class=cls
        ).variant
        for kind, method, cls in [
            ("upgrade", "emergency", "major"),
            ("upgrade", "planned", "major"),
            ("upgrade", "planned", "standard"),
        ]
    }
    assert list(chosen.values()) == ["emergency", "major", "standard"]


def test_every_service_records_the_channel_it_was_called_through(release, requester, crew):
    calls = {
        "release.created": lambda: factories.release(requester, release.application),
        "release.updated": lambda: services.update_release(
            requester, release, revision=1, title="Renamed"
        ),
        "deliverable.added": lambda: services.add_deliverable(
            requester, release, key="release_plan", url="https://wiki.example.com/plan"
        ),
        "checklist.done": lambda: [
            services.complete_checklist_item(crew, release, item=key)
            for kind, key, _n in factories.gate_items(release)
            if kind == "checklist"
        ],
        "release.advance": lambda: services.advance(crew, release, revision=2),
        "comment.added": lambda: services.add_comment(requester, release, body="via the CLI"),
    }
    for action, service in calls.items():
        with acting_through(Channel.CLI, f"cli-{action}"):
            service()
        event = last_event(action)
        assert (event.channel, event.request_id) == ("cli", f"cli-{action}"), action
    release = factories.walk_to(crew, release, "plan_review")
    head = factories.approvers(release.application, "department_approver", department="Sales")[0]
    with acting_through(Channel.WORKER):
        decisions.approve(head, release, step="department_approver")
    assert last_event("approval.approved").channel == "worker"


# ---------------------------------------------------------------- update_release


def test_update_release_records_only_the_changed_fields(release, requester):
    updated = services.update_release(
        requester,
        release.number,
        revision=1,
        title="Upgrade CRM to 5.3",
        version_number="5.2.0",
        risk="high",
    )
    assert (updated.title, updated.risk, updated.revision) == ("Upgrade CRM to 5.3", "high", 2)
    event = last_event()
    assert event.action == "release.updated"
    assert event.actor == requester
    assert event.before == {"title": "Upgrade CRM to 5.2", "risk": "medium"}
    assert event.after == {"title": "Upgrade CRM to 5.3", "risk": "high"}


def test_update_release_without_a_change_records_nothing(release, requester):
    before = count_events()
    same = services.update_release(requester, release, revision=1, title=release.title)
    assert same.revision == 1
    assert count_events() == before


def test_update_release_names_the_release_manager_and_environment_by_id(release, requester, crew):
    env = factories.environment("prod")
    services.update_release(
        crew, release, revision=1, release_manager=crew.username, environment="prod"
    )
    event = last_event()
    assert event.before == {"release_manager": None, "environment": None}
    assert event.after == {"release_manager": crew.pk, "environment": env.pk}


def test_clearing_a_text_field_stores_it_empty(release, requester):
    services.update_release(requester, release, revision=1, version_number=None, scope=None)
    stored = fresh(release)
    assert (stored.version_number, stored.scope) == ("", "")
    assert last_event().before == {"version_number": "5.2.0"}
    assert last_event().after == {"version_number": ""}


def test_update_release_refuses_a_stale_revision(release, requester):
    services.update_release(requester, release, revision=1, title="First")
    with pytest.raises(Conflict, match="changed by someone else"):
        services.update_release(requester, release, revision=1, title="Second")
    assert fresh(release).title == "First"


def test_update_release_checks_dates_against_the_stored_ones(release, requester):
    start = timezone.now()
    services.update_release(requester, release, revision=1, planned_start=start)
    with pytest.raises(ValidationFailed) as refused:
        services.update_release(
            requester, release, revision=2, planned_end=start - timedelta(days=1)
        )
    assert "planned_end" in refused.value.errors
    assert fresh(release).planned_end is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"risk": "odd"}, "risk"),
        ({"release_manager": "ghost"}, "release_manager"),
    ],
)
def test_update_release_refuses_bad_input_naming_the_field(release, requester, change, field):
    with pytest.raises(ValidationFailed) as refused:
        services.update_release(requester, release, revision=1, **change)
    assert field in refused.value.errors


def test_update_release_refuses_fields_that_cannot_change(release, requester):
    with pytest.raises(ValidationFailed, match="stage"):
        services.update_release(requester, release, revision=1, stage="close_and_report")


def test_update_release_refuses_auditors_and_hides_from_outsiders(release, auditor, outsider):
    with pytest.raises(PermissionDenied):
        services.update_release(auditor, release, revision=1, title="Audited")
    with pytest.raises(NotFound):
        services.update_release(outsider, release.number, revision=1, title="Mine now")
    assert fresh(release).title == "Upgrade CRM to 5.2"


def test_a_closed_release_cannot_be_edited(release, crew):
    services.cancel(crew, release, reason="not needed", revision=1)
    with pytest.raises(PermissionDenied, match="closed"):
        services.update_release(crew, release, revision=2, title="Too late")


# ---------------------------------------------------------------- transitions


def test_advance_records_the_move(release, crew):
    factories.meet_gate(crew, release)
    moved = services.advance(crew, release, revision=1)
    assert (moved.stage, moved.revision) == ("backout_plan", 2)
    event = last_event()
    assert event.action == "release.advance"
    assert event.actor == crew
    assert event.before == {"stage": "release_plan", "status": "in_progress", "outcome": ""}
    assert event.after == {"stage": "backout_plan", "status": "in_progress", "outcome": ""}


def test_advance_through_the_api_channel_records_it(release, crew):
    factories.meet_gate(crew, release)
    with acting_through(Channel.API):
        services.advance(crew, release, revision=1)
    assert last_event().channel == "api"


def test_advance_with_an_unmet_gate_names_the_deliverable(release, crew):
    for item in checklist_of(release):
        services.complete_checklist_item(crew, release, item=item)
    before = count_events()
    with pytest.raises(GateNotMet) as refused:
        services.advance(crew, release, revision=1)
    assert refused.value.unmet == ["Stage 'Release plan' needs the deliverable 'Release plan'."]
    assert refused.value.status == 422
    assert fresh(release).stage == "release_plan"
    assert count_events() == before


def checklist_of(release: Release) -> list[str]:
    return [key for kind, key, _n in factories.gate_items(release) if kind == "checklist"]


def test_an_unmet_gate_names_each_missing_part(release, crew):
    with pytest.raises(GateNotMet) as refused:
        services.advance(crew, release, revision=1)
    unmet = refused.value.unmet
    assert len(unmet) == 7
    assert "needs the deliverable 'Release plan'" in unmet[0]
    assert all("needs the checklist item" in line for line in unmet[1:])
    assert refused.value.as_dict()["unmet"] == unmet


def test_an_unmet_gate_names_the_deliverable_in_the_users_language(release, crew):
    process, _variant = services.flow_of(release)
    with translation.override("zh-hans"), pytest.raises(GateNotMet) as refused:
        services.advance(crew, release, revision=1)
    chinese = pick(process.deliverables["release_plan"], "zh-hans")
    assert chinese in refused.value.unmet[0]
    assert refused.value.unmet[0] == "阶段“制定发布方案”需要交付物“发布方案”。"


def test_an_unmet_approval_says_how_many_are_needed(release, crew):
    release = factories.walk_to(crew, release, "plan_review")
    factories.meet(crew, release, "checklist", "plan_review_held")
    factories.meet(crew, release, "approval", "department_approver")
    with pytest.raises(GateNotMet) as refused:
        services.advance(crew, release, revision=release.revision)
    assert refused.value.unmet == [
        "Stage 'Release plan review' needs 1 approval(s) by 'Release owner' (has 0)."
    ]


def test_only_the_stage_roles_may_advance(release, requester):
    # the requester may edit their release but does not work in tfdl's stages
    with pytest.raises(PermissionDenied, match="only these roles may act"):
        services.advance(requester, release, revision=1)


def test_a_stale_revision_is_a_conflict(release, crew):
    factories.meet_gate(crew, release)
    services.advance(crew, release, revision=1)
    with pytest.raises(Conflict, match="changed by someone else"):
        services.advance(crew, release, revision=1)
    assert fresh(release).stage == "backout_plan"


def test_an_outsider_cannot_find_the_release(release, outsider):
    with pytest.raises(NotFound):
        services.advance(outsider, release.number, revision=1)


def test_return_needs_a_reason_and_an_earlier_target(release, crew):
    release = factories.walk_to(crew, release, "plan_review")
    with pytest.raises(ValidationFailed) as no_reason:
        services.return_to_stage(
            crew, release, stage="release_plan", reason=" ", revision=release.revision
        )
    assert "reason" in no_reason.value.errors
    with pytest.raises(ValidationFailed) as later:
        services.return_to_stage(
            crew, release, stage="go_live_planning", reason="why not", revision=release.revision
        )
    assert "target" in later.value.errors


def test_return_voids_approvals_and_ticks_from_the_target_stage_on(release, crew):
    release = factories.walk_to(crew, release, "plan_review")
    factories.meet(crew, release, "approval", "department_approver")
    factories.meet(crew, release, "checklist", "plan_review_held")
    approved = Approval.objects.filter(release=release).count()
    kept_ticks = set(
        ChecklistTick.objects.filter(release=release, stage="release_plan").values_list(
            "pk", flat=True
        )
    )
    returned = services.return_to_stage(
        crew, release, stage="backout_plan", reason="The backout plan misses the DB", revision=3
    )
    assert returned.stage == "backout_plan"
    event = last_event()
    assert event.action == "release.return"
    assert event.reason == "The backout plan misses the DB"
    assert (event.before["stage"], event.after["stage"]) == ("plan_review", "backout_plan")
    live = ChecklistTick.objects.filter(release=release, voided__isnull=True)
    assert set(live.values_list("pk", flat=True)) == kept_ticks
    assert not ChecklistTick.objects.filter(
        release=release, stage__in=["backout_plan", "plan_review"], voided__isnull=True
    ).exists()
    assert not Approval.objects.filter(release=release, voided__isnull=True).exists()
    assert Approval.objects.filter(release=release, voided__isnull=False).count() == approved
    # the deliverables stay; the checklist of backout_plan must be ticked again
    with pytest.raises(GateNotMet) as refused:
        services.advance(crew, release, revision=returned.revision)
    assert len(refused.value.unmet) == 5
    assert all("checklist item" in line for line in refused.value.unmet)
    # the approver who was voided may approve plan_review again later
    release = factories.walk_to(crew, release, "plan_review")
    factories.meet(crew, release, "approval", "department_approver")
    assert Approval.objects.filter(release=release, voided__isnull=True).count() == approved


def test_rollback_without_a_target_ends_the_release_rolled_back(release, crew):
    release = factories.walk_to(crew, release, "deployment")
    with pytest.raises(ValidationFailed) as refused:
        services.roll_back(crew, release, reason="", revision=release.revision)
    assert "reason" in refused.value.errors
    ended = services.roll_back(crew, release, reason="Smoke test failed", revision=release.revision)
    assert (ended.status, ended.outcome, ended.stage) == ("closed", "rolled_back", "deployment")
    assert ended.actual_end is not None
    event = last_event()
    assert (event.action, event.reason) == ("release.rollback", "Smoke test failed")
    assert event.after == {"stage": "deployment", "status": "closed", "outcome": "rolled_back"}


def test_rollback_is_refused_where_the_stage_does_not_offer_it(release, crew):
    with pytest.raises(ValidationFailed) as refused:
        services.roll_back(crew, release, reason="why", revision=1)
    assert "action" in refused.value.errors


def test_rollback_to_an_earlier_stage_voids_what_was_done_since(presets):
    # hhlc major: ... design_build --> test_acceptance --> user_verification (rollback_to design_build)
    app = factories.application("core", process="hhlc")
    requester = factories.user("rex", "requester", app=app)
    worker = factories.crew(app)
    release = factories.release(requester, app, release_class="major")
    release = factories.walk_to(worker, release, "user_verification")
    factories.meet(worker, release, "checklist", "users_verified")
    back = services.roll_back(
        worker, release, reason="Users found a defect", revision=release.revision
    )
    assert (back.stage, back.status) == ("design_build", "in_progress")
    assert not ChecklistTick.objects.filter(
        release=release,
        stage__in=["design_build", "test_acceptance", "user_verification"],
        voided__isnull=True,
    ).exists()
    assert ChecklistTick.objects.filter(
        release=release, stage="request", voided__isnull=True
    ).exists()
    assert last_event().after["stage"] == "design_build"


def test_cancel_needs_a_reason_and_ends_the_release(release, crew):
    with pytest.raises(ValidationFailed) as refused:
        services.cancel(crew, release, reason="", revision=1)
    assert "reason" in refused.value.errors
    ended = services.cancel(crew, release, reason="Vendor withdrew the patch", revision=1)
    assert (ended.status, ended.outcome) == ("closed", "cancelled")
    event = last_event()
    assert (event.action, event.reason, event.actor) == (
        "release.cancel",
        "Vendor withdrew the patch",
        crew,
    )


def test_a_closed_release_refuses_every_action(release, crew):
    services.cancel(crew, release, reason="stop", revision=1)
    for action in ("advance", "return", "rollback", "cancel", "close"):
        with pytest.raises(Conflict, match="closed"):
            services.transition(
                crew, release, action, revision=2, reason="again", target="release_plan"
            )
    for call in (
        lambda: services.complete_checklist_item(crew, release, item="opinions_collected"),
        lambda: services.add_deliverable(crew, release, key="release_plan", url="https://x.org"),
    ):
        with pytest.raises(PermissionDenied, match="closed"):
            call()
    owner = factories.approvers(release.application, "release_owner")[0]
    with pytest.raises(Conflict, match="closed"):
        decisions.approve(owner, release, step="release_owner")


def test_close_succeeded_needs_the_last_gate(release, crew):
    release = factories.walk_to(crew, release, "close_and_report")
    with pytest.raises(GateNotMet) as refused:
        services.close(crew, release, revision=release.revision)
    assert any("Release report" in line for line in refused.value.unmet)
    factories.meet_gate(crew, release)
    closed = services.close(crew, release, revision=release.revision)
    assert (closed.status, closed.outcome) == ("closed", "succeeded")
    assert last_event().action == "release.close"


def test_close_failed_needs_a_reason_but_not_the_gate(release, crew):
    release = factories.walk_to(crew, release, "close_and_report")
    with pytest.raises(ValidationFailed) as refused:
        services.close(crew, release, outcome="failed", revision=release.revision)
    assert "reason" in refused.value.errors
    closed = services.close(
        crew, release, outcome="failed", reason="Rolled forward badly", revision=release.revision
    )
    assert (closed.status, closed.outcome) == ("closed", "failed")
    assert last_event().reason == "Rolled forward badly"


def test_close_is_refused_before_the_last_stage(release, crew):
    factories.meet_gate(crew, release)
    with pytest.raises(ValidationFailed) as refused:
        services.close(crew, release, revision=1)
    assert "action" in refused.value.errors


@pytest.mark.parametrize("outcome", ["cancelled", "rolled_back", "sideways"])
def test_close_accepts_only_succeeded_or_failed(release, crew, outcome):
    with pytest.raises(ValidationFailed) as refused:
        services.close(crew, release, outcome=outcome, reason="r", revision=1)
    assert "outcome" in refused.value.errors


def test_an_unknown_action_names_the_field(release, crew):
    with pytest.raises(ValidationFailed) as refused:
        services.transition(crew, release, "teleport", revision=1)
    assert "action" in refused.value.errors


# ---------------------------------------------------------------- deliverables


def test_upload_stores_the_file_by_its_checksum_and_records_it(release, requester):
    version = services.add_deliverable(
        requester,
        release,
        key="release_plan",
        upload=factories.upload("plan.pdf", PDF),
        note="first draft",
    )
    digest = hashlib.sha256(PDF).hexdigest()
    assert (version.number, version.sha256, version.size) == (1, digest, len(PDF))
    assert (version.filename, version.content_type) == ("plan.pdf", "application/pdf")
    path = Path(django_settings.MEDIA_ROOT) / version.file
    assert path.read_bytes() == PDF
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    event = last_event()
    assert event.action == "deliverable.added"
    assert (event.actor, event.reason, event.release) == (requester, "first draft", release)
    assert event.after["sha256"] == digest
    assert event.after["size"] == len(PDF)
    assert event.after["deliverable"] == "release_plan"
    assert event.after["version"] == 1


def test_a_reupload_keeps_version_one_and_adds_version_two(release, requester):
    first = services.add_deliverable(
        requester, release, key="release_plan", upload=factories.upload("plan.txt", b"one\n")
    )
    second = services.add_deliverable(
        requester, release, key="release_plan", upload=factories.upload("plan.txt", b"two\n")
    )
    versions = DeliverableVersion.objects.filter(deliverable__release=release).order_by("number")
    assert [(v.number, v.sha256) for v in versions] == [
        (1, hashlib.sha256(b"one\n").hexdigest()),
        (2, hashlib.sha256(b"two\n").hexdigest()),
    ]
    assert first.deliverable_id == second.deliverable_id
    root = Path(django_settings.MEDIA_ROOT)
    assert (root / first.file).read_bytes() == b"one\n"
    assert (root / second.file).read_bytes() == b"two\n"
    assert last_event().after["version"] == 2


def test_a_link_is_a_deliverable_version_too(release, requester):
    version = services.add_deliverable(
        requester, release, key="release_plan", url="https://wiki.example.com/plan"
    )
    assert (version.url, version.file, version.sha256) == ("https://wiki.example.com/plan", "", "")
    assert last_event().after["url"] == "https://wiki.example.com/plan"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plan.pdf", PNG),  # PNG bytes named .pdf
        ("plan.txt", b"\x00\x01\x02\xff\xfe\xfd" * 50),  # binary named .txt
        ("plan.txt", PNG),  # an image named .txt
        ("plan.docx", PDF),  # a PDF named .docx
        ("plan.exe", b"MZ\x90\x00"),  # a type not accepted at all
        ("plan", b"no extension\n"),
        ("plan.txt", b""),  # empty
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(release, requester, name, content):
    before = count_events()
    with pytest.raises(ValidationFailed) as refused:
        services.add_deliverable(
            requester, release, key="release_plan", upload=factories.upload(name, content)
        )
    assert "file" in refused.value.errors
    assert not DeliverableVersion.objects.exists()
    assert stored_files() == []
    assert count_events() == before


def test_an_oversize_file_is_refused_whole(settings, release, requester):
    settings.RELMAN_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationFailed) as refused:
        services.add_deliverable(
            requester, release, key="release_plan", upload=factories.upload("big.txt", b"a" * 101)
        )
    assert "larger than the limit" in refused.value.errors["file"][0]
    assert not DeliverableVersion.objects.exists()
    assert stored_files() == []
    exactly = services.add_deliverable(
        requester, release, key="release_plan", upload=factories.upload("ok.txt", b"a" * 100)
    )
    assert exactly.size == 100


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"key": "horoscope", "url": "https://x.org"}, "key"),
        ({"key": "release_plan"}, "file"),
        ({"key": "release_plan", "url": "https://x.org", "upload": "both"}, "file"),
        ({"key": "release_plan", "url": "javascript:alert(1)"}, "url"),
        ({"key": "release_plan", "url": "https://x.org", "note": "n" * 501}, "note"),
    ],
)
def test_add_deliverable_refuses_bad_input_naming_the_field(release, requester, kwargs, field):
    if kwargs.get("upload") == "both":
        kwargs["upload"] = factories.upload()
    with pytest.raises(ValidationFailed) as refused:
        services.add_deliverable(requester, release, **kwargs)
    assert field in refused.value.errors
    assert not DeliverableVersion.objects.exists()


def test_add_deliverable_is_refused_to_auditors_and_outsiders(release, auditor, outsider):
    with pytest.raises(PermissionDenied):
        services.add_deliverable(auditor, release, key="release_plan", url="https://x.org")
    with pytest.raises(NotFound):
        services.add_deliverable(outsider, release.number, key="release_plan", url="https://x.org")
    assert not DeliverableVersion.objects.exists()


# ---------------------------------------------------------------- checklist


def test_complete_checklist_item_records_it(release, crew):
    tick = services.complete_checklist_item(
        crew, release, item="opinions_collected", note="asked ops and dba"
    )
    assert (tick.stage, tick.item, tick.done_by) == ("release_plan", "opinions_collected", crew)
    event = last_event()
    assert event.action == "checklist.done"
    assert event.after == {"stage": "release_plan", "item": "opinions_collected"}
    assert (event.reason, event.actor) == ("asked ops and dba", crew)


def test_an_item_of_another_stage_is_refused_naming_the_field(release, crew):
    with pytest.raises(ValidationFailed) as refused:
        services.complete_checklist_item(crew, release, item="plan_review_held")
    assert "item" in refused.value.errors


def test_an_item_is_ticked_once(release, crew):
    services.complete_checklist_item(crew, release, item="opinions_collected")
    with pytest.raises(Conflict):
        services.complete_checklist_item(crew, release, item="opinions_collected")


def test_the_checklist_is_ticked_by_the_stage_roles_only(release, requester, auditor):
    with pytest.raises(PermissionDenied, match="Only these roles"):
        services.complete_checklist_item(requester, release, item="opinions_collected")
    with pytest.raises(PermissionDenied):
        services.complete_checklist_item(auditor, release, item="opinions_collected")
    assert not ChecklistTick.objects.exists()


# ---------------------------------------------------------------- approvals


def test_an_unmet_approval_label_is_the_role_name(release):
    process, _variant = services.flow_of(release)
    assert role_label(process, "customer_representative") == "Customer representative"
    assert role_label(process, "release_owner") == "Release owner"


# ---------------------------------------------------------------- comments


def test_add_comment_records_it(release, auditor, requester):
    comment = services.add_comment(requester, release, body="  Please review by Friday.  ")
    assert comment.body == "Please review by Friday."
    event = last_event()
    assert event.action == "comment.added"
    assert event.after == {"body": "Please review by Friday."}
    assert (event.actor, event.release) == (requester, release)


@pytest.mark.parametrize("body", ["", "   ", "x" * 10001])
def test_add_comment_refuses_an_empty_or_huge_body(release, requester, body):
    with pytest.raises(ValidationFailed) as refused:
        services.add_comment(requester, release, body=body)
    assert "body" in refused.value.errors
    assert not Comment.objects.exists()


def test_auditors_may_not_comment_and_outsiders_cannot_find_it(release, auditor, outsider):
    with pytest.raises(PermissionDenied):
        services.add_comment(auditor, release, body="Noted.")
    with pytest.raises(NotFound):
        services.add_comment(outsider, release.number, body="Hello?")
    assert not Comment.objects.exists()


# ---------------------------------------------------------------- a whole release of each preset

WALKS = [
    ("mof", "upgrade", "planned", "standard"),
    ("hhlc", "upgrade", "planned", "standard"),
    ("hhlc", "documents", "planned", "standard"),
    ("hhlc", "upgrade", "planned", "major"),
    ("hhlc", "documents", "emergency", "minor"),
    ("feh", "new_system", "planned", "major"),
    ("feh", "upgrade", "emergency", "standard"),
    ("feh", "new_system", "emergency", "standard"),
    ("feh", "documents", "planned", "minor"),
    ("tfdl", "patch", "planned", "minor"),
]


def gate_label(process, variant, stage: str, kind: str, key: str) -> str:
    """How a refusal names a gate item, in English."""
    if kind == "deliverable":
        return f"the deliverable '{process.deliverables[key]['en']}'"
    if kind == "checklist":
        return f"the checklist item '{process.checklist[key]['en']}'"
    if kind == "schedule":
        return "scheduled in an open release window"
    if kind == "readiness":
        return "readiness review decided 'go'"
    if kind == "change":
        return "at least 1 change(s) in the release" if key == "none" else f"change {key} '"
    if kind == "change_review":
        return f"the change review of {key} '"
    return f"by '{step_label(process, variant.stage(stage).step(key))}'"


@pytest.mark.parametrize(("process_name", "kind", "method", "release_class"), WALKS)
def test_a_release_of_each_preset_walks_from_request_to_closed(
    presets, process_name, kind, method, release_class
):
    app = factories.application(f"app-{process_name}", process=process_name)
    requester = factories.user(
        f"req-{process_name}", "requester", app=app, department="Leasing business"
    )
    worker = factories.crew(app)
    release = factories.release(
        requester, app, kind=kind, method=method, release_class=release_class
    )
    process, variant = services.flow_of(release)
    assert variant.key == process.choose_variant(kind, method, release_class).key
    expected = [s.key for s in variant.stages if s.applies_to(kind, method, release_class)]
    visited = []
    with translation.override("en"):
        while release.status == "in_progress":
            visited.append(release.stage)
            last = release.stage == expected[-1]
            leave = services.close if last else services.advance
            items = factories.gate_items(release)
            for index, (item_kind, key, count) in enumerate(items):
                # Everything from this item on is still missing: leaving is refused, naming it.
                with pytest.raises(GateNotMet) as refused:
                    leave(worker, release, revision=release.revision)
                assert len(refused.value.unmet) == len(items) - index
                assert (
                    gate_label(process, variant, release.stage, item_kind, key)
                    in (refused.value.unmet[0])
                )
                factories.meet(worker, release, item_kind, key, count)
                release.refresh_from_db()  # scheduling changes the release's planned times
            release = leave(worker, release, revision=release.revision)
    assert visited == expected
    assert (release.status, release.outcome) == ("closed", "succeeded")
    if kind == "documents" and process_name == "hhlc":
        skipped = [s.key for s in variant.stages if s.key not in expected]
        assert skipped, "the documents flow of hhlc skips stages"
        assert not set(skipped) & set(visited)
    moves = AuditEvent.objects.filter(release=release, action="release.advance").count()
    assert moves == len(expected) - 1
    assert verify_chain().ok
