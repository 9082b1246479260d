"""The demo's CMDB: a few hundred configuration items in tiers, owned by the demo's teams.

Each demo application is a business service people use, an application instance per
environment, application servers, a database, and a load balancer in production; they run
on shared infrastructure (a database cluster, virtualisation hosts, core switches and
firewalls), and runbooks document them. `plan()` is pure: the items and relationships as
rows, which `load()` brings in through the CMDB's own import (one audited, all-or-nothing
import, as an organisation moving its CMDB in would do).
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import asdict, dataclass, field

from relman.accounts import teams
from relman.accounts.models import Team
from relman.cmdb import transfer
from relman.demo.cast import APPLICATIONS

# Who owns what (demo departments, see cast.USERS).
BUSINESS_OWNER = {
    "crm": "Business Applications",
    "oa": "信息管理部",
    "dw": "数据平台组",
    "mobile": "Digital Channels",
    "leasing": "租赁业务部",
    "portal1890": "客户服务部",
    "payment": "Digital Channels",
    "hr": "人力资源部",
}
APPLICATION_TEAM = {
    "crm": "Business Applications",
    "oa": "信息管理部",
    "dw": "数据平台组",
    "mobile": "Digital Channels",
    "leasing": "信息管理部",
    "portal1890": "IT Service Management",
    "payment": "Digital Channels",
    "hr": "信息管理部",
}
INFRASTRUCTURE = "Infrastructure & Operations"
OPERATIONS_CN = "运维中心"
NETWORK = "网络与配置管理组"
DATA = "数据平台组"
LIBRARY = "配置管理组"

ENVIRONMENTS = ("test", "staging", "prod")


@dataclass(frozen=True)
class Item:
    type: str
    name: str
    owner_team: str
    environment: str = ""
    application: str = ""
    status: str = "active"
    description: str = ""
    attributes: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Link:
    source_type: str
    source: str
    kind: str
    target_type: str
    target: str


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def add(self, item: Item) -> Item:
        self.items.append(item)
        return item

    def link(self, source: Item, kind: str, target: Item) -> None:
        self.links.append(Link(source.type, source.name, kind, target.type, target.name))


def _server(plan: Plan, name: str, env: str, team: str, rng: random.Random, host: Item) -> Item:
    server = plan.add(
        Item(
            "server",
            name,
            team,
            environment=env,
            attributes={
                "os": rng.choice(["RHEL 8.9", "RHEL 9.3", "Kylin V10", "Windows Server 2022"]),
                "cpu": rng.choice([4, 8, 16]),
                "memory_gb": rng.choice([16, 32, 64]),
                "ip": f"10.{ENVIRONMENTS.index(env) + 10}.{rng.randint(1, 250)}."
                f"{rng.randint(2, 250)}",
            },
        )
    )
    plan.link(server, "runs_on", host)
    return server


def plan(seed: int = 2026) -> Plan:
    """The demo CMDB, the same for the same seed."""
    rng = random.Random(seed)
    p = Plan()
    core = [p.add(Item("network_device", f"core-sw-0{i}", NETWORK, "prod")) for i in (1, 2)]
    firewall = p.add(Item("network_device", "fw-dmz-01", NETWORK, "prod"))
    p.link(firewall, "connects_to", core[0])
    p.link(core[0], "connects_to", core[1])
    hosts = {
        env: [
            p.add(
                Item(
                    "server",
                    f"vmhost-{env}-{i:02d}",
                    INFRASTRUCTURE if i % 2 else OPERATIONS_CN,
                    env,
                    attributes={"os": "VMware ESXi 8.0", "cpu": 64, "memory_gb": 512},
                )
            )
            for i in range(1, 5 if env == "prod" else 3)
        ]
        for env in ENVIRONMENTS
    }
    for env_hosts in hosts.values():
        for host in env_hosts:
            p.link(host, "connects_to", core[len(p.links) % 2])
    clusters = {
        env: p.add(
            Item(
                "database",
                f"oracle-rac-{env}",
                DATA,
                env,
                attributes={"engine": "Oracle 19c", "nodes": 2 if env == "prod" else 1},
            )
        )
        for env in ENVIRONMENTS
    }
    for env, cluster in clusters.items():
        p.link(cluster, "runs_on", hosts[env][0])
    for spec in APPLICATIONS:
        code = spec.code
        service = p.add(
            Item(
                "service",
                f"{code}-service",
                BUSINESS_OWNER[code],
                "prod",
                code,
                description=spec.name,
                attributes={"sla": rng.choice(["99.9%", "99.5%", "99.95%"])},
            )
        )
        for env in ENVIRONMENTS:
            app = p.add(Item("application", f"{code}-{env}", APPLICATION_TEAM[code], env, code))
            if env == "prod":
                p.link(app, "part_of", service)
            servers = [
                _server(p, f"{code}-app{n}-{env}", env, INFRASTRUCTURE, rng, rng.choice(hosts[env]))
                for n in range(1, (4 if env == "prod" else 2) + 1)
            ]
            for server in servers:
                p.link(app, "runs_on", server)
            schema = p.add(
                Item(
                    "database",
                    f"{code}-db-{env}",
                    DATA,
                    env,
                    code,
                    attributes={"engine": "Oracle 19c", "schema": code.upper()},
                )
            )
            p.link(schema, "runs_on", clusters[env])
            p.link(app, "depends_on", schema)
            if env == "prod":
                lb = p.add(Item("network_device", f"{code}-lb-prod", NETWORK, env))
                p.link(lb, "connects_to", firewall)
                p.link(app, "depends_on", lb)
                runbook = p.add(
                    Item("document", f"{code}-runbook", LIBRARY, "", code, description=spec.name)
                )
                p.link(runbook, "part_of", service)
    # The data warehouse reads every production database; the portal and the mobile app call
    # the CRM; payment is called by leasing and mobile.
    by_name = {(i.type, i.name): i for i in p.items}
    for code in ("crm", "leasing", "payment", "hr"):
        p.link(
            by_name[("application", "dw-prod")],
            "depends_on",
            by_name[("database", f"{code}-db-prod")],
        )
    for caller, callee in [
        ("portal1890", "crm"),
        ("mobile", "crm"),
        ("leasing", "payment"),
        ("mobile", "payment"),
    ]:
        p.link(
            by_name[("application", f"{caller}-prod")],
            "depends_on",
            by_name[("application", f"{callee}-prod")],
        )
    for n in range(1, 101):
        team = rng.choice([INFRASTRUCTURE, OPERATIONS_CN, "租赁业务部", "人力资源部"])
        desk = p.add(
            Item(
                "workstation",
                f"ws-{n:03d}",
                team,
                attributes={"os": rng.choice(["Windows 11", "UOS 20"]), "asset_tag": f"A{n:05d}"},
            )
        )
        p.link(desk, "connects_to", core[n % 2])
    return p


def load(seed: int = 2026) -> transfer.ImportReport:
    """Bring the demo CMDB in through the CMDB's own JSON import, its owner teams named by
    code (a team the users' departments did not make is made here)."""
    p = plan(seed)
    codes = dict(Team.objects.values_list("name", "code"))
    for name in sorted({i.owner_team for i in p.items} - set(codes)):
        codes[name] = teams.create_team(
            None,
            code=teams.department_code(name, lambda c: Team.objects.filter(code=c).exists()),
            name=name,
        ).code
    document = {
        "items": [{**asdict(i), "owner_team": codes[i.owner_team]} for i in p.items],
        "relationships": [asdict(link) for link in p.links],
    }
    data = json.dumps(document, ensure_ascii=False).encode()
    return transfer.import_file(None, io.BytesIO(data), filename="demo-cmdb.json", format="json")
