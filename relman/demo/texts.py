"""What the demo's people write: release titles, documents, reasons, remarks.

Chinese applications get Chinese text, the others English, as in a mixed IT department.
This is demo data, not interface text, so it is not translated.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from typing import Any

from django.utils import timezone

# Titles by application and kind of release.
TITLES: dict[str, dict[str, list[str]]] = {
    "crm": {
        "new_system": [
            "Customer 360 portal",
            "Partner relationship module",
            "Marketing automation hub",
        ],
        "upgrade": [
            "Sales pipeline dashboard",
            "Lead scoring model v2",
            "Campaign management improvements",
            "Account hierarchy and territory rules",
            "Quote-to-order integration with ERP",
        ],
        "patch": [
            "Security patches",
            "Fix duplicate contacts on import",
            "Fix opportunity export timeout",
        ],
        "documents": ["User guide update", "Sales operations handbook"],
    },
    "oa": {
        "new_system": ["电子印章平台上线", "移动办公门户上线"],
        "upgrade": [
            "公文流转模块升级",
            "移动审批功能优化",
            "会议室预约改版",
            "督办事项跟踪功能",
            "通讯录与组织架构同步",
        ],
        "patch": ["安全补丁更新", "修复附件预览乱码", "修复流程待办推送延迟"],
        "documents": ["用户操作手册更新", "公文处理规范修订"],
    },
    "dw": {
        "new_system": ["客户主题域数据集市上线", "实时数据湖平台上线"],
        "upgrade": [
            "月度经营分析报表",
            "ODS 层数据同步优化",
            "客户主题域模型重构",
            "ETL 调度平台升级",
            "数据质量检核规则扩充",
        ],
        "patch": ["修复日终跑批超时", "修复租金口径差异", "Hive 安全补丁"],
        "documents": ["数据字典更新", "指标口径说明书修订"],
    },
    "mobile": {
        "new_system": ["Mobile wallet", "Customer self-service app for dealers"],
        "upgrade": [
            "Face ID and fingerprint login",
            "Push notification service upgrade",
            "New onboarding flow",
            "Dark mode and accessibility",
            "In-app contract signing",
        ],
        "patch": [
            "Crash fix on Android 15",
            "iOS 18 compatibility fix",
            "Certificate pinning update",
        ],
        "documents": ["App store listing and privacy policy", "Support FAQ update"],
    },
    "leasing": {
        "new_system": ["新一代租赁核心系统上线", "资产证券化管理系统上线"],
        "upgrade": [
            "租金计划计算引擎升级",
            "资产包转让功能",
            "起租流程优化",
            "逾期催收接口改造",
            "LPR 利率调整批处理",
        ],
        "patch": ["修复提前还款试算差异", "修复合同打印模板错位", "利率调整批处理补丁"],
        "documents": ["业务操作手册更新", "上线发布管理操作指引修订"],
    },
    "portal1890": {
        "new_system": ["1890 知识库上线", "1890 自助服务门户上线"],
        "upgrade": [
            "工单自动分派",
            "满意度回访模块",
            "门户单点登录改造",
            "服务目录改版",
            "IT 资产自助查询",
        ],
        "patch": ["修复工单超时提醒", "修复附件上传失败", "门户安全补丁"],
        "documents": ["1890 服务台操作手册更新", "服务级别协议(SLA)说明更新"],
    },
    "payment": {
        "new_system": ["Cross-border payment channel", "Merchant self-service portal"],
        "upgrade": [
            "UnionPay channel upgrade",
            "Alipay and WeChat Pay refund API",
            "Settlement reconciliation engine",
            "3-D Secure 2.2 support",
            "Risk rules engine upgrade",
        ],
        "patch": [
            "TLS certificate rotation",
            "Fix settlement file rounding",
            "Fix duplicate refund callbacks",
        ],
        "documents": ["Merchant integration guide", "PCI DSS evidence pack"],
    },
    "hr": {
        "new_system": ["绩效管理系统上线", "员工自助门户上线"],
        "upgrade": [
            "薪酬核算模块升级",
            "考勤规则引擎优化",
            "招聘流程线上化",
            "个税年度汇算支持",
            "组织架构调整功能",
        ],
        "patch": ["修复考勤接口数据丢失", "修复工资条导出格式", "安全补丁更新"],
        "documents": ["员工手册更新", "薪酬制度说明修订"],
    },
}

REASONS: dict[str, dict[bool, list[str]]] = {
    "emergency": {
        False: [
            "Production incident: the fix cannot wait for the next release window.",
            "Security advisory with a known exploit; patch tonight.",
            "Payments are failing for some customers; the hotfix goes out now.",
        ],
        True: [
            "生产故障紧急修复，无法等待下一个发布窗口。",
            "高危安全漏洞，须当晚修补。",
            "部分客户业务受阻，紧急上线修复版本。",
        ],
    },
    "cancel": {
        False: [
            "Business priorities changed; the work moves to next quarter.",
            "Superseded by a larger release.",
            "The vendor withdrew the version after a critical bug report.",
            "Requirement withdrawn by the business owner.",
        ],
        True: [
            "业务需求调整，本次发布取消，纳入下季度计划。",
            "内容已合并到后续的大版本发布中。",
            "厂商撤回该版本，等待修复后重新申请。",
            "需求方撤回需求。",
        ],
    },
    "fail": {
        False: [
            "Post-deployment checks found wrong totals in the daily report; fixed forward in the next release.",
            "Performance fell below the agreed service level during the trial run.",
            "The deployment finished late and missed the agreed window.",
        ],
        True: [
            "上线后验证发现报表数据不一致，转入下一版本修复。",
            "试运行期间性能未达到服务级别要求。",
            "部署超出发布窗口，未按计划完成。",
        ],
    },
    "rollback": {
        False: [
            "Smoke test failed after deployment: login errors for 5% of users. Backed out per the backout plan.",
            "Database migration took longer than the window; rolled back to the previous version.",
            "Interface errors with the downstream system; backed out and notified the related systems.",
        ],
        True: [
            "部署后冒烟测试失败，部分用户无法登录，按回退方案回退。",
            "数据库变更执行超时，超出发布窗口，已回退到上一版本。",
            "与周边系统接口调用异常，已回退并通知各关联系统。",
        ],
    },
    "rollback_detour": {
        False: [
            "User verification failed: the new screens do not match the signed-off design. Back to the project team."
        ],
        True: ["用户验证未通过：部分功能与需求不符，记录原因，回退项目组重新执行。"],
    },
    "return": {
        False: [
            "The plan is missing the data migration steps; please complete it.",
            "Test coverage of the interfaces is insufficient; more tests needed.",
            "The backout plan has not been rehearsed; please rehearse and update it.",
        ],
        True: [
            "发布方案缺少数据迁移步骤，请补充。",
            "接口测试覆盖不足，需补充测试。",
            "回退方案未经演练，请演练后更新。",
        ],
    },
}

APPROVAL_COMMENTS = {
    False: [
        "Approved.",
        "Approved; risks understood.",
        "OK to proceed.",
        "Approved, please keep the service desk informed.",
    ],
    True: ["同意。", "同意上线。", "风险已知悉，同意。", "同意，请提前通知服务台。"],
}
REMARKS = {
    False: [
        "Please finish the regression tests before the Thursday window.",
        "Service desk briefed; knowledge article KB-2231 updated.",
        "Can we move the window one week? Month-end closing is that evening.",
        "Backout plan reviewed, looks good.",
        "Vendor engineer on site for the deployment.",
    ],
    True: [
        "请在周四发布窗口前完成回归测试。",
        "已通知 1890 服务台，知识库已更新。",
        "月末结账当晚，能否推迟一周发布？",
        "回退方案已评审，没有问题。",
        "厂商工程师将到场支持部署。",
    ],
}
TICK_NOTES = {
    False: ["Done.", "Checked with the team.", "Evidence in the wiki.", "Confirmed by e-mail."],
    True: ["已完成。", "已与项目组确认。", "证明材料已归档。", "邮件确认。"],
}


def title(app: str, kind: str, rng: random.Random, when: datetime) -> str:
    """A release title for the application; patches carry their month."""
    pool = TITLES.get(app, {}).get(kind) or [kind.replace("_", " ").capitalize()]
    text = rng.choice(pool)
    if kind == "patch":
        text = f"{text} ({timezone.localtime(when):%Y-%m})"
    return text


def details(chinese: bool, app_name: str, kind: str, rng: random.Random) -> dict[str, str]:
    """Description, scope, impact and backout plan of a release."""
    if chinese:
        return {
            "description": f"{app_name}：按业务部门需求实施本次发布，详见发布计划。",
            "scope": rng.choice(
                [
                    "应用程序、数据库脚本、配置参数",
                    "应用程序与接口程序",
                    "报表与数据模型",
                    "前端页面与后台服务",
                ]
            ),
            "impact": rng.choice(
                [
                    "发布期间系统暂停服务约 30 分钟。",
                    "对业务无影响，夜间窗口实施。",
                    "影响周边系统接口调用，需提前通知。",
                ]
            ),
            "backout_plan": "保留上一版本安装包与数据库备份；验证失败时 30 分钟内回退并通知周边系统。",
        }
    return {
        "description": f"{app_name}: delivers the change requested by the business; see the release plan.",
        "scope": rng.choice(
            [
                "Application, database scripts and configuration",
                "Application and interfaces",
                "Front end and back-end services",
                "Reports and data model",
            ]
        ),
        "impact": rng.choice(
            [
                "About 30 minutes of downtime during the window.",
                "No user impact; deployed in the evening window.",
                "Interfaces to related systems pause during deployment.",
            ]
        ),
        "backout_plan": "Keep the previous package and a database backup; if verification fails, restore within 30 minutes and notify related systems.",
    }


def reason(kind: str, chinese: bool, rng: random.Random) -> str:
    return rng.choice(REASONS[kind][chinese])


def document(
    key: str, label: str, release: Any, chinese: bool, rng: random.Random
) -> tuple[io.BytesIO, str]:
    """A small, real UTF-8 document for a deliverable, as an upload with a `.name`."""
    number, app = release.number, release.application.name
    head = f"{release.number} {release.title}"
    if "test" in key or "statistics" in key or key.endswith("_list"):
        text, ext = _table(key, release, chinese, rng), "csv"
    elif "email" in key or "notice" in key:
        text, ext = _mail(label, head, app, chinese), "txt"
    else:
        text, ext = _plan(label, head, app, release, chinese, rng), "md"
    upload = io.BytesIO(text.encode())
    upload.name = f"{number}_{key}.{ext}"
    return upload, upload.name


def link(key: str, release: Any) -> str:
    """An intranet link for a deliverable kept elsewhere (wiki page or artifact repository)."""
    if "package" in key:
        version = release.version_number or "latest"
        return (
            f"https://nexus.example.com/repository/releases/{release.application.code}/"
            f"{version}/{release.application.code}-{version}.tar.gz"
        )
    return f"https://wiki.example.com/display/REL/{release.number}-{key.replace('_', '-')}"


def _plan(label: str, head: str, app: str, release: Any, chinese: bool, rng: random.Random) -> str:
    window = release.planned_start and timezone.localtime(release.planned_start)
    when = f"{window:%Y-%m-%d %H:%M}" if window else ("待定" if chinese else "to be agreed")
    if chinese:
        steps = [
            "备份数据库与配置",
            "停止应用服务",
            "部署安装包并执行数据库脚本",
            "启动服务并冒烟测试",
            "业务验证并通知服务台",
        ]
        return (
            f"# {label}\n\n**{head}**\n\n| 项目 | 内容 |\n|---|---|\n| 系统 | {app} |\n"
            f"| 版本 | {release.version_number or '-'} |\n| 计划窗口 | {when} |\n\n## 范围\n\n"
            f"{release.scope}\n\n## 步骤\n\n"
            + "".join(f"{i}. {s}\n" for i, s in enumerate(steps, 1))
            + f"\n## 风险与应对\n\n{release.impact}\n\n## 回退\n\n{release.backout_plan}\n"
        )
    steps = [
        "Back up the database and configuration",
        "Stop the application services",
        "Deploy the package and run the database scripts",
        "Start the services and run the smoke tests",
        "Business verification; tell the service desk",
    ]
    return (
        f"# {label}\n\n**{head}**\n\n| Item | Value |\n|---|---|\n| Application | {app} |\n"
        f"| Version | {release.version_number or '-'} |\n| Window | {when} |\n\n## Scope\n\n"
        f"{release.scope}\n\n## Steps\n\n"
        + "".join(f"{i}. {s}\n" for i, s in enumerate(steps, 1))
        + f"\n## Risks\n\n{release.impact}\n\n## Backout\n\n{release.backout_plan}\n"
    )


def _table(key: str, release: Any, chinese: bool, rng: random.Random) -> str:
    if key.endswith("_list"):
        rows = ["artifact,version,sha256,size_bytes"]
        for name in ("app.war", "db-scripts.zip", "config.tar.gz"):
            digest = f"{rng.getrandbits(256):064x}"
            rows.append(
                f"{name},{release.version_number or '-'},{digest},{rng.randint(10_000, 90_000_000)}"
            )
        return "\n".join(rows) + "\n"
    if "statistics" in key:
        rows = ["metric,value"]
        rows += [
            f"changes_included,{rng.randint(1, 12)}",
            f"defects_found,{rng.randint(0, 6)}",
            f"downtime_minutes,{rng.randint(0, 45)}",
            f"incidents_after_7_days,{rng.randint(0, 2)}",
        ]
        return "\n".join(rows) + "\n"
    cases = (
        ["登录", "查询", "新增", "修改", "审批", "导出", "接口调用", "批处理"]
        if chinese
        else [
            "login",
            "search",
            "create",
            "update",
            "approve",
            "export",
            "interface call",
            "batch job",
        ]
    )
    rows = ["case_id,case,result,defect"]
    for i, case in enumerate(cases, 1):
        failed = rng.random() < 0.08
        rows.append(
            f"TC-{i:03},{case},{'FAIL' if failed else 'PASS'},{f'BUG-{rng.randint(100, 999)}' if failed else ''}"
        )
    return "\n".join(rows) + "\n"


def _mail(label: str, head: str, app: str, chinese: bool) -> str:
    if chinese:
        return (
            f"主题：【上线通告】{head}\n\n各位同事：\n\n{app} 将于发布窗口内上线，期间可能短暂中断服务。"
            "如有问题请致电 1890 服务台。\n\n信息管理部\n"
        )
    return (
        f"Subject: [Go-live notice] {head}\n\nDear colleagues,\n\n{app} goes live in the next "
        "release window; the service may pause briefly. Call the 1890 service desk with any "
        "questions.\n\nInformation Management\n"
    )
