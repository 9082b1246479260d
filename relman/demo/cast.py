"""The demo's reference data and people: environments, applications and users with their roles.

Environments and applications are reference data with no service yet, so they are created
with the ORM here; users and role assignments go through `relman.accounts.services`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from relman.accounts import services as accounts
from relman.accounts import teams
from relman.accounts.choices import BuiltinRole
from relman.accounts.models import Role, Team
from relman.cmdb.models import Application, Environment
from relman.core.errors import Conflict
from relman.processes.definition import Process

# The application whose existence says the demo data is loaded.
MARKER = "crm"

# code, name, production?, order
ENVIRONMENTS = (
    ("dev", "开发环境 Development", False, 10),
    ("test", "测试环境 Test", False, 20),
    ("staging", "预生产环境 Staging", False, 30),
    ("prod", "生产环境 Production", True, 40),
)


@dataclass(frozen=True)
class AppSpec:
    """A demo application: the process its releases follow and the language its people write."""

    code: str
    name: str
    description: str
    process: str
    chinese: bool
    version: tuple[int, int, int]


APPLICATIONS = (
    AppSpec(
        "crm",
        "CRM 客户关系管理系统",
        "Customer relationship management: accounts, contacts, sales pipeline and campaigns.",
        "mof",
        False,
        (3, 4, 0),
    ),
    AppSpec(
        "oa",
        "OA 协同办公系统",
        "协同办公：公文流转、移动审批、会议室预约、电子印章。",
        "mof",
        True,
        (5, 1, 0),
    ),
    AppSpec(
        "dw",
        "数据仓库 Data warehouse",
        "企业数据仓库：ODS、主题域模型、ETL 调度与经营分析报表。",
        "hhlc",
        True,
        (2, 7, 0),
    ),
    AppSpec(
        "mobile",
        "Mobile app 移动客户端",
        "The customer mobile app for iOS and Android, with its push and login services.",
        "hhlc",
        False,
        (6, 2, 0),
    ),
    AppSpec(
        "leasing",
        "租赁核心系统 Core leasing system",
        "租赁核心业务：合同、起租、租金计划、资产管理与逾期催收。",
        "feh",
        True,
        (4, 0, 0),
    ),
    AppSpec(
        "portal1890",
        "1890 服务台门户 Service desk portal",
        "1890 IT 服务台门户：工单、知识库、满意度回访与自助服务。",
        "feh",
        True,
        (1, 8, 0),
    ),
    AppSpec(
        "payment",
        "Payment gateway 支付网关",
        "Card, UnionPay, Alipay and WeChat Pay acquiring, refunds and daily settlement.",
        "tfdl",
        False,
        (2, 3, 0),
    ),
    AppSpec(
        "hr",
        "HR 人力资源系统",
        "人力资源：组织、薪酬核算、考勤、绩效与员工自助。",
        "tfdl",
        True,
        (7, 0, 0),
    ),
)
DEMO_PROCESSES = tuple(dict.fromkeys(a.process for a in APPLICATIONS))

FEH, HHLC, MOF, TFDL = ("leasing", "portal1890"), ("dw", "mobile"), ("crm", "oa"), ("payment", "hr")


@dataclass(frozen=True)
class UserSpec:
    """A demo user: who they are and which roles they hold (None: for every application)."""

    username: str
    display_name: str
    department: str
    language: str
    roles: tuple[tuple[str, tuple[str, ...] | None], ...]


def _u(username: str, name: str, dept: str, lang: str, *roles: tuple[str, Any]) -> UserSpec:
    return UserSpec(username, name, dept, lang, tuple(roles))


ALL = None
ZH = "zh-hans"
USERS = (
    _u(
        "alice",
        "Alice Chen",
        "Business Applications",
        "en",
        ("requester", ("crm", "mobile", "payment")),
    ),
    _u("wangwei", "王伟", "租赁业务部", ZH, ("requester", ("leasing", "portal1890", "oa"))),
    _u("lina", "李娜", "人力资源部", ZH, ("requester", ("hr", "oa", "dw"))),
    _u(
        "tom", "Tom Wu", "Digital Channels", "en", ("requester", ("mobile", "payment", "crm", "dw"))
    ),
    _u("bob", "Bob Li", "Release Management", "en", ("release_manager", ALL)),
    _u("zhangmin", "张敏", "信息管理部 发布管理组", ZH, ("release_manager", ALL)),
    _u("carol", "Carol Zhao", "IT Service Management", "en", ("release_owner", ALL)),
    _u("dave", "Dave Sun", "IT Service Management", "en", ("release_administrator", ALL)),
    _u("chenjing", "陈静", "测试中心", ZH, ("tester", ALL)),
    _u("zhaolei", "赵磊", "项目管理部", ZH, ("project_manager", FEH + HHLC)),
    _u("yangfan", "杨帆", "项目管理部", ZH, ("project_manager", FEH + HHLC)),
    _u("erin", "Erin Xu", "Change Management", "en", ("change_owner", ALL)),
    _u("huangli", "黄丽", "信息管理部", ZH, ("cab_member", ALL)),
    _u("frank", "Frank Gao", "Enterprise Architecture", "en", ("cab_member", ALL)),
    _u("zhoujie", "周杰", "租赁业务部", ZH, ("department_approver", ALL)),
    _u("xumei", "徐梅", "人力资源部", ZH, ("department_approver", ALL)),
    _u("liuyang", "刘洋", "项目管理部", ZH, ("department_approver", ALL)),
    _u("xutao", "徐涛", "信息管理部", ZH, ("department_approver", ALL)),
    _u("mia", "Mia Qian", "Digital Channels", "en", ("department_approver", ALL)),
    _u("oscar", "Oscar Tang", "Business Applications", "en", ("department_approver", ALL)),
    _u("grace", "Grace Lin", "PMO", "en", ("pmo", ALL)),
    _u("wuqiang", "吴强", "配置管理组", ZH, ("configuration_librarian", ALL)),
    _u("henry", "Henry Ma", "Infrastructure & Operations", "en", ("operations", ALL)),
    _u("sunhao", "孙浩", "运维中心", ZH, ("operations", ALL)),
    _u("ivy", "Ivy Huang", "Internal Audit", "en", ("auditor", ALL)),
    _u("zhenghua", "郑华", "信息管理部", ZH, ("communications_coordinator", MOF)),
    _u("kate", "Kate Zhou", "Service Management", "en", ("documentation_coordinator", MOF)),
    _u("machao", "马超", "测试中心", ZH, ("testing_coordinator", MOF)),
    _u("hubin", "胡斌", "网络与配置管理组", ZH, ("network_engineer", HHLC)),
    _u("linfeng", "林峰", "数据平台组", ZH, ("project_team", HHLC)),
    _u("hefang", "何芳", "测试中心", ZH, ("test_team", HHLC)),
    _u("gaojing", "高静", "客户服务部", ZH, ("customer_service_director", FEH)),
    _u("luojun", "罗军", "租赁业务部", ZH, ("system_owner", ("leasing",))),
    _u("qiancheng", "钱程", "客户服务部", ZH, ("system_owner", ("portal1890",))),
    _u("liangyue", "梁悦", "财务部", ZH, ("customer_representative", TFDL)),
)


@dataclass
class People:
    """The demo users and who holds which role where."""

    users: dict[str, Any] = field(default_factory=dict)
    # role -> [(user, application codes or None for all)]
    grants: dict[str, list[tuple[Any, tuple[str, ...] | None]]] = field(default_factory=dict)

    def holders(self, role: str, app: str) -> list[Any]:
        """The demo users who hold `role` for application `app`."""
        return [u for u, apps in self.grants.get(role, ()) if apps is None or app in apps]


def create_environments() -> dict[str, Environment]:
    """The four environments, reusing any that exist already."""
    found = {}
    for code, name, production, order in ENVIRONMENTS:
        env, _created = Environment.objects.get_or_create(
            code=code, defaults={"name": name, "is_production": production, "order": order}
        )
        found[code] = env
    return found


def create_applications() -> dict[str, Application]:
    """The demo applications, two for each demo process."""
    found = {}
    for spec in APPLICATIONS:
        app, _created = Application.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "process_name": spec.process,
            },
        )
        found[spec.code] = app
    return found


def needed_roles(processes: Iterable[Process]) -> dict[str, int]:
    """Every role to staff (built-in and the processes' own), with the most approvals of it
    one stage asks for."""
    needed = {role.value: 1 for role in BuiltinRole}
    for process in processes:
        for role in process.roles:
            needed.setdefault(role, 1)
        for variant in process.variants:
            for stage in variant.stages:
                for role in stage.roles:
                    needed.setdefault(role, 1)
                for step in stage.approvals:
                    needed[step.role] = max(needed.get(step.role, 1), step.count or 2)
    return needed


def check_usernames_free() -> None:
    """Refuse before writing anything if a demo username is taken by someone else."""
    taken = list(
        get_user_model()
        .objects.filter(username__in=[u.username for u in USERS])
        .values_list("username", flat=True)
    )
    if taken:
        raise Conflict(
            _("The demo cannot be loaded: these usernames are taken: %s.") % ", ".join(taken)
        )


# Seed 002: the information management department has sub-departments.
SUB_DEPARTMENTS = {"信息管理部 发布管理组": "信息管理部"}


def organise_departments(people: People) -> None:
    """The departments the users' departments made: the department approvers head theirs,
    and the sub-departments are put in their department."""
    by_name = {t.name: t for t in Team.objects.all()}
    for name, parent in SUB_DEPARTMENTS.items():
        if name in by_name and parent in by_name:
            teams.update_team(
                None, by_name[name], kind=Team.Kind.SUB_DEPARTMENT, parent=by_name[parent]
            )
    for user, _apps in people.grants.get(BuiltinRole.DEPARTMENT_APPROVER, ()):
        for team in teams.teams_of(user):
            teams.add_member(None, team, user, head=True)


def create_people(password: str, processes: Iterable[Process]) -> People:
    """Create the demo users with their roles, then one more user for every role (or approval
    place) the demo processes need that the cast leaves empty."""
    people = People()
    known_roles = set(Role.objects.values_list("code", flat=True))

    def add(spec: UserSpec) -> None:
        user, _password = accounts.create_user(
            None,
            username=spec.username,
            password=password,
            email=f"{spec.username}@example.com",
            display_name=spec.display_name,
            department=spec.department,
            language=spec.language,
        )
        people.users[spec.username] = user
        for role, apps in spec.roles:
            if role not in known_roles:
                continue
            for app in apps or (None,):
                accounts.assign_role(None, user, role, app)
            people.grants.setdefault(role, []).append((user, apps))

    for spec in USERS:
        add(spec)
    organise_departments(people)
    for role, count in needed_roles(processes).items():
        if role not in known_roles:
            continue
        # One more holder than a stage's approvals need, so the requester can stand aside.
        for n in range(len(people.grants.get(role, ())), count + 1 if count > 1 else 1):
            username = f"demo_{role}_{n + 1}"[:150]
            if get_user_model().objects.filter(username=username).exists():
                continue
            add(
                _u(username, f"{role.replace('_', ' ').title()} {n + 1}", "Demo", "en", (role, ALL))
            )
    return people
