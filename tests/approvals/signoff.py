"""A small sign-off process and the people around it, for the approver's tools' tests.

    plan (release_plan) --> approval --> deploy
                            steps, in sequence:
                              review: 2 project managers, checks plan_checked + tests_passed,
                                      needs test_report; rejected back to plan; expires after
                                      48 h (reminder 8 h before) and escalates to the PMO
                              release_owner: one release owner

People (application "shop"): rita requests, max manages the release, alice and bob are
project managers, pat is the PMO, olga owns releases, dave tests (and stands in for people
away), nina holds no role. Everyone has an
e-mail address, so that every notification becomes a message of the outbox.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from relman.approvals.services import delegation
from relman.processes import services as processes
from relman.releases import services as releases
from tests import factories

SIGNOFF_PROCESS = """
name: signoff
label: {en: Sign-off, zh-hans: 会签}
deliverables:
  release_plan: {en: Release plan, zh-hans: 发布方案}
  test_report: {en: Test report, zh-hans: 测试报告}
checklist:
  plan_checked: {en: Plan checked, zh-hans: 方案已检查}
  tests_passed: {en: Tests passed, zh-hans: 测试已通过}
variants:
  - key: standard
    label: {en: Standard, zh-hans: 标准}
    stages:
      - key: plan
        label: {en: Plan, zh-hans: 计划}
        roles: [requester, release_manager]
        gates:
          deliverables: [release_plan]
      - key: approval
        label: {en: Approval, zh-hans: 审批}
        roles: [release_manager]
        gates:
          approvals:
            - key: review
              role: project_manager
              count: 2
              checks: [plan_checked, tests_passed]
              deliverables: [test_report]
              reject_to: plan
              expires: {after_hours: 48, remind_before_hours: 8, escalate_to: pmo}
            - role: release_owner
      - key: deploy
        label: {en: Deploy, zh-hans: 部署}
        roles: [release_manager]
        transitions: [close, return, rollback, cancel]
"""

CHECKS = ["plan_checked", "tests_passed"]


def world(tmp_path) -> SimpleNamespace:
    """The process, the application and its people."""
    path = tmp_path / "signoff.yaml"
    path.write_text(SIGNOFF_PROCESS, encoding="utf-8")
    processes.load_processes(files=[path])
    shop = factories.application("shop", process="signoff")

    def person(username: str, *roles: str, **extra: object):
        return factories.user(username, *roles, app=shop, email=f"{username}@example.com", **extra)

    return SimpleNamespace(
        app=shop,
        requester=person("rita", "requester", display_name="Rita Requester"),
        manager=person("max", "release_manager", display_name="Max Manager"),
        alice=person("alice", "project_manager", display_name="Alice PM"),
        bob=person("bob", "project_manager", display_name="Bob PM"),
        pmo=person("pat", "pmo", display_name="Pat PMO"),
        owner=person("olga", "release_owner", display_name="Olga Owner"),
        nobody=person("nina", display_name="Nina Nobody"),
        # A colleague who tests the shop: he sees its releases, and may stand in for others.
        dave=person("dave", "tester", display_name="Dave Deputy"),
    )


def release_in_approval(w: SimpleNamespace, title: str = "Checkout v2"):
    """A release of the shop in the approval stage, its test report uploaded: the review
    step is open."""
    release = factories.release(
        w.requester, w.app, title=title, kind="upgrade", release_manager=w.manager, risk="high"
    )
    releases.add_deliverable(
        w.requester, release, key="release_plan", upload=factories.upload("plan.txt", b"plan\n")
    )
    releases.add_deliverable(
        w.requester,
        release,
        key="test_report",
        upload=factories.upload("tests.txt", b"all green\n"),
    )
    release.refresh_from_db()
    release = releases.advance(w.requester, release, revision=release.revision)
    assert release.stage == "approval"
    return release


def away(delegator, delegate, *, days: int = 5, actor=None):
    """`delegate` stands in for `delegator` from an hour ago for `days` days."""
    now = timezone.now()
    return delegation.create_delegation(
        actor or delegator,
        delegate=delegate,
        starts=now - timedelta(hours=1),
        ends=now + timedelta(days=days),
        reason="Holiday",
    )
