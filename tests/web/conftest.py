"""Fixtures of the page tests: a small process, an application, and one user per role."""

from __future__ import annotations

import pytest
from django.test import Client

from relman.processes import services as processes
from tests import factories

# A three-stage process whose first gate asks for one of each kind of gate item.
MINI_PROCESS = """
name: mini
label: {en: Mini process, zh-hans: 迷你流程}
deliverables:
  release_plan: {en: Release plan, zh-hans: 发布方案}
  test_report: {en: Test report, zh-hans: 测试报告}
checklist:
  plan_reviewed: {en: Plan reviewed, zh-hans: 方案已评审}
variants:
  - key: standard
    label: {en: Standard flow, zh-hans: 标准流程}
    stages:
      - key: plan
        label: {en: Release plan, zh-hans: 发布计划}
        roles: [requester, release_manager]
        gates:
          deliverables: [release_plan]
          checklist: [plan_reviewed]
          approvals: [{role: cab_member}]
      - key: build
        label: {en: Build, zh-hans: 构建}
        roles: [release_manager]
      - key: deploy
        label: {en: Deploy, zh-hans: 部署}
        roles: [release_manager]
        transitions: [close, return, rollback, cancel]
"""


@pytest.fixture(autouse=True)
def _fast_passwords(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture
def shop(db, tmp_path):
    """An application following the mini process."""
    path = tmp_path / "mini.yaml"
    path.write_text(MINI_PROCESS, encoding="utf-8")
    processes.load_processes(files=[path])
    return factories.application("shop", process="mini")


@pytest.fixture
def requester(shop):
    return factories.user("rita", "requester", app=shop, display_name="Rita Requester")


@pytest.fixture
def manager(shop):
    return factories.user("max", "release_manager", app=shop, display_name="Max Manager")


@pytest.fixture
def cab(shop):
    return factories.user("carl", "cab_member", app=shop)


@pytest.fixture
def auditor(shop):
    return factories.user("aud", "auditor", app=shop)


@pytest.fixture
def outsider(db):
    return factories.user("olga")


@pytest.fixture
def release(shop, requester, manager):
    return factories.release(
        requester, shop, title="Checkout v2", kind="upgrade", release_manager=manager
    )


@pytest.fixture
def login():
    """A test client logged in as the given user (anonymous for None)."""

    def make(user=None, **headers) -> Client:
        client = Client(**headers)
        if user is not None:
            client.force_login(user)
        return client

    return make
