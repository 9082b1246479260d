"""Process files: the presets validate, and every broken file is named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from relman.processes import services
from relman.processes.loader import PRESETS_DIR, InvalidProcess, Problem, validate_file
from relman.processes.models import ProcessVersion
from relman.processes.services import BUILTIN_ROLES

PRESETS = sorted(PRESETS_DIR.glob("*.yaml"))

# A small valid file. The broken files below are this one with one thing changed.
#
#   plan [release_plan, 1 cab approval] --> test [tested] (skipped for documents)
#        --> deploy (return to plan, rollback to plan) --> review
SAMPLE = """\
name: sample
label: {en: Sample process, zh-hans: 示例流程}
roles:
  wizard: {en: Wizard, zh-hans: 巫师}
deliverables:
  release_plan: {en: Release plan, zh-hans: 发布计划}
checklist:
  tested: {en: Tested, zh-hans: 已测试}
variants:
  - key: standard
    label: {en: Standard, zh-hans: 标准}
    stages:
      - key: plan
        label: {en: Plan, zh-hans: 计划}
        roles: [release_manager, wizard]
        gates:
          deliverables: [release_plan]
          approvals:
            - {role: cab_member, count: 1}
      - key: test
        label: {en: Test, zh-hans: 测试}
        roles: [tester]
        gates:
          checklist: [tested]
        skip_for:
          kind: [documents]
      - key: deploy
        label: {en: Deploy, zh-hans: 部署}
        roles: [operations]
        transitions: [advance, return, rollback, cancel]
        return_to: [plan]
        rollback_to: plan
      - key: review
        label: {en: Review, zh-hans: 回顾}
        roles: [release_manager]
"""
FILE = "orgs/sample.yaml"


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[occurrence - 1]


def broken(old: str, new: str) -> str:
    assert SAMPLE.count(old) == 1, old
    return SAMPLE.replace(old, new)


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InvalidProcess) as caught:
        services.validate(text, FILE)
    problems = caught.value.problems
    assert problems
    assert all(p.file == FILE for p in problems)
    assert str(caught.value) == "\n".join(str(p) for p in problems)
    return problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_the_sample_is_valid():
    process = services.validate(SAMPLE, FILE)
    assert [s.key for s in process.variants[0].stages] == ["plan", "test", "deploy", "review"]


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_every_preset_validates(path):
    data, process = validate_file(path, BUILTIN_ROLES)
    assert process.name == path.stem == data["name"]
    assert process.variants
    for variant in process.variants:
        for stage in variant.stages:
            assert stage.label["en"] and stage.label["zh-hans"]


def test_the_presets_are_the_four_seed_procedures():
    assert {p.stem for p in PRESETS} >= {"mof", "hhlc", "feh", "tfdl"}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_the_mermaid_chart_of_a_preset_shows_every_stage(path):
    _data, process = validate_file(path, BUILTIN_ROLES)
    for variant in process.variants:
        chart = services.mermaid(process, variant.key)
        assert chart.startswith("flowchart LR")
        for stage in variant.stages:
            assert f"    {stage.key}[" in chart, (variant.key, stage.key)
        assert f"{variant.stages[-1].key} -->|close| closed" in chart


def test_the_mermaid_chart_draws_returns_and_rollbacks():
    chart = services.mermaid(services.validate(SAMPLE, FILE), "standard")
    assert "plan -->|advance| test" in chart
    assert "deploy -.->|return| plan" in chart
    assert "deploy -.->|rollback| plan" in chart
    assert "(skipped for some)" in chart


# ---------------------------------------------------------------- broken files


def test_a_yaml_syntax_error_names_its_line():
    text = broken("        roles: [tester]\n", "        roles: [tester]\n  label: : oops\n")
    problem = only(problems_of(text))
    assert problem.line == line_of(text, "label: : oops")
    assert problem.field == ""
    assert "YAML syntax error" in problem.message


def test_an_unclosed_bracket_names_the_line_it_was_opened_on():
    text = broken("roles: [tester]", "roles: [tester")
    problem = only(problems_of(text))
    assert "YAML syntax error" in problem.message
    assert f"line {line_of(text, 'roles: [tester')}" in problem.message


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!custom"])
def test_an_unknown_tag_is_a_problem_not_a_crash(tag):
    text = broken("name: sample", f"name: {tag} sample")
    problem = only(problems_of(text))
    assert (problem.line, problem.field) == (1, "name")
    assert "YAML syntax error" in problem.message


def test_a_key_that_is_not_a_name_is_a_problem_not_a_crash():
    text = broken("checklist:\n", "checklist:\n  ? [a, b]\n  : {en: A, zh-hans: 甲}\n")
    problem = only(problems_of(text))
    assert (problem.line, problem.field) == (line_of(text, "? [a, b]"), "checklist")


def test_a_file_that_is_not_a_mapping_is_refused():
    assert "object" in only(problems_of("- a\n- b\n")).message


def test_an_empty_file_is_refused():
    assert "empty" in only(problems_of("# nothing here\n")).message


def test_a_duplicate_key_names_the_duplicate_and_the_first():
    text = broken(
        "        roles: [tester]\n",
        "        roles: [tester]\n        label: {en: Again, zh-hans: 又}\n",
    )
    problem = only(problems_of(text))
    assert problem.line == line_of(text, "label: {en: Again")
    assert problem.field == "variants.0.stages.1.label"
    first = line_of(text, "label: {en: Test,")
    assert f"first on line {first}" in problem.message


def test_an_unknown_field_is_named_on_its_own_line():
    text = broken("        roles: [tester]\n", "        roles: [tester]\n        colour: red\n")
    problem = only(problems_of(text))
    assert problem.line == line_of(text, "colour: red")
    assert problem.field == "variants.0.stages.1.colour"
    assert "colour" in problem.message


def test_an_unknown_top_level_field_is_named():
    problem = only(problems_of(SAMPLE + "owner: someone\n"))
    assert (problem.line, problem.field) == (line_of(SAMPLE + "owner: x\n", "owner:"), "owner")


def test_a_label_without_chinese_is_refused():
    text = broken("label: {en: Test, zh-hans: 测试}", "label: {en: Test}")
    problem = only(problems_of(text))
    assert problem.line == line_of(text, "label: {en: Test}")
    assert problem.field == "variants.0.stages.1.label"
    assert "zh-hans" in problem.message


def test_a_wrong_type_is_refused_naming_the_field():
    text = broken("count: 1", "count: many")
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.0.gates.approvals.0.count"
    assert problem.line == line_of(text, "count: many")


def test_an_unknown_role_is_named():
    text = broken("roles: [tester]", "roles: [tester, dragon]")
    problem = only(problems_of(text))
    assert problem.line == line_of(text, "roles: [tester, dragon]")
    assert problem.field == "variants.0.stages.1.roles.1"
    assert "dragon" in problem.message


def test_an_approval_by_an_unknown_role_is_named():
    text = broken("role: cab_member", "role: wizzard")
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.0.gates.approvals.0.role"
    assert problem.line == line_of(text, "role: wizzard")


def test_a_role_declared_by_the_process_is_known():
    assert services.validate(broken("roles: [tester]", "roles: [wizard]"), FILE)


def test_a_gate_naming_an_undefined_deliverable_or_checklist_item_is_refused():
    text = broken("deliverables: [release_plan]", "deliverables: [release_plan, blueprint]")
    text = text.replace("checklist: [tested]", "checklist: [tested, blessed]")
    deliverable, item = problems_of(text)
    assert deliverable.field == "variants.0.stages.0.gates.deliverables.1"
    assert deliverable.line == line_of(text, "blueprint")
    assert "blueprint" in deliverable.message
    assert item.field == "variants.0.stages.1.gates.checklist.1"
    assert item.line == line_of(text, "blessed")
    assert "blessed" in item.message


def test_a_duplicate_stage_key_is_refused():
    text = broken("key: review", "key: plan")
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.3.key"
    assert problem.line == line_of(text, "- key: plan", occurrence=2)
    assert "plan" in problem.message


def test_return_to_a_later_stage_is_refused():
    text = broken("return_to: [plan]", "return_to: [plan, review]")
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.2.return_to.1"
    assert problem.line == line_of(text, "return_to:")
    assert "review" in problem.message


def test_rollback_to_a_later_or_unknown_stage_is_refused():
    problem = only(problems_of(broken("rollback_to: plan", "rollback_to: review")))
    assert problem.field == "variants.0.stages.2.rollback_to"
    assert "review" in problem.message


def test_rollback_to_without_the_rollback_transition_is_refused():
    text = broken(
        "transitions: [advance, return, rollback, cancel]", "transitions: [advance, return, cancel]"
    )
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.2.rollback_to"
    assert problem.line == line_of(text, "rollback_to: plan")
    assert "rollback" in problem.message


def test_a_stage_skipped_for_every_release_of_its_flow_is_refused():
    text = broken("kind: [documents]", "kind: [new_system, upgrade, patch, documents]")
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.1.skip_for"
    assert problem.line == line_of(text, "skip_for:")
    assert "'test'" in problem.message


def test_a_stage_skipped_for_every_release_its_variant_admits_is_refused():
    # the flow is only for documents releases, and its test stage skips documents
    text = broken(
        "    label: {en: Standard, zh-hans: 标准}\n",
        "    label: {en: Standard, zh-hans: 标准}\n    when:\n      kind: [documents]\n",
    )
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.1.skip_for"


SHADOWED = """\
  - key: never
    label: {en: Never, zh-hans: 从不}
    when:
      kind: [patch]
    stages:
      - key: only
        label: {en: Only, zh-hans: 唯一}
        roles: [tester]
"""


def test_a_variant_that_can_never_be_chosen_is_refused():
    text = SAMPLE + SHADOWED  # `standard` has no condition, so it takes every release
    problem = only(problems_of(text))
    assert problem.field == "variants.1.when"
    assert problem.line == line_of(text, "when:")
    assert "never" in problem.message


def test_a_narrower_variant_before_a_catch_all_is_fine():
    first, rest = SAMPLE.split("  - key: standard\n")
    text = first + SHADOWED + "  - key: standard\n" + rest
    process = services.validate(text, FILE)
    assert process.choose_variant("patch", "planned", "minor").key == "never"
    assert process.choose_variant("upgrade", "planned", "minor").key == "standard"


def test_every_problem_is_reported_not_only_the_first():
    text = broken("roles: [tester]", "roles: [dragon]").replace("key: review", "key: plan")
    fields = {p.field for p in problems_of(text)}
    assert fields == {"variants.0.stages.1.roles.0", "variants.0.stages.3.key"}


def test_an_unreadable_file_is_named(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidProcess) as caught:
        validate_file(path, BUILTIN_ROLES)
    assert caught.value.problems[0].file == str(path)


@pytest.mark.django_db
def test_loading_stores_nothing_when_any_file_is_invalid(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(SAMPLE, encoding="utf-8")
    bad.write_text(broken("roles: [tester]", "roles: [dragon]"), encoding="utf-8")
    with pytest.raises(InvalidProcess) as caught:
        services.load_processes(files=[good, bad])
    assert caught.value.problems[0].file == str(bad)
    assert not ProcessVersion.objects.filter(name="sample").exists()


@pytest.mark.django_db
def test_loading_stores_a_new_version_only_when_the_file_changed(tmp_path):
    path = tmp_path / "sample.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    first = services.load_processes(files=[path])
    again = services.load_processes(files=[path])
    path.write_text(SAMPLE.replace("Sample process", "Sample process (revised)"), encoding="utf-8")
    changed = services.load_processes(files=[Path(path)])
    assert [(r.version, r.created) for r in (*first, *again, *changed)] == [
        (1, True),
        (1, False),
        (2, True),
    ]
    assert services.current_version("sample").label_en == "Sample process (revised)"


def test_a_stage_without_its_way_forward_is_a_dead_end():
    text = broken(
        "transitions: [advance, return, rollback, cancel]",
        "transitions: [return, rollback, cancel]",
    )
    problem = only(problems_of(text))
    assert problem.line == line_of(text, "transitions: [return, rollback, cancel]")
    assert problem.field == "variants.0.stages.2.transitions"
    assert "'deploy' is a dead end: it needs 'advance'" in problem.message


def test_a_last_stage_that_cannot_close_is_a_dead_end():
    text = SAMPLE + "        transitions: [return, cancel]\n"
    problem = only(problems_of(text))
    assert problem.field == "variants.0.stages.3.transitions"
    assert "'review' is a dead end: it needs 'close'" in problem.message


# ---------------------------------------------------------------- approval policies

POLICY = """\
          approvals:
            - {role: cab_member, count: 1}
"""


def with_policy(policy: str) -> str:
    return broken(POLICY, policy)


def test_a_policy_with_a_chain_parallel_steps_and_conditions_loads():
    process = services.validate(
        with_policy(
            """\
          approvals:
            - {role: wizard, checks: [tested], deliverables: [release_plan]}
            - parallel:
                - {role: cab_member, count: all}
                - {key: ops, role: operations, count: any, optional: true}
            - role: department_approver
              department: requester
              when: {method: [emergency]}
              expires: {after_hours: 48, remind_before_hours: 8, escalate_to: release_manager}
"""
        ),
        FILE,
    )
    steps = process.variant("standard").stage("plan").approvals
    assert [(s.key, s.group, s.count, s.optional) for s in steps] == [
        ("wizard", 0, 1, False),
        ("cab_member", 1, None, False),
        ("ops", 1, 1, True),
        ("department_approver", 2, 1, False),
    ]
    assert steps[0].checks == ("tested",) and steps[0].deliverables == ("release_plan",)
    head = steps[3]
    assert (head.department, head.expires_after, head.remind_before, head.escalate_to) == (
        "requester",
        48,
        8,
        "release_manager",
    )
    assert head.when.method == ("emergency",)


@pytest.mark.parametrize(
    ("policy", "fragment", "field", "message"),
    [
        (
            "          approvals:\n            - {role: nobody}\n",
            "role: nobody",
            "role",
            "unknown role 'nobody'",
        ),
        (
            "          approvals:\n            - {role: wizard, checks: [untested]}\n",
            "untested",
            "checks.0",
            "undefined checklist item 'untested'",
        ),
        (
            "          approvals:\n            - {role: wizard, deliverables: [memo]}\n",
            "memo",
            "deliverables.0",
            "undefined deliverable 'memo'",
        ),
        (
            "          approvals:\n            - {role: wizard, reject_to: review}\n",
            "reject_to",
            "reject_to",
            "'review' is not an earlier stage",
        ),
        (
            "          approvals:\n            - {role: wizard}\n            - {role: wizard}\n",
            "- {role: wizard}",
            "key",
            "two steps of this stage are called 'wizard'",
        ),
        (
            "          approvals:\n            - role: wizard\n"
            "              expires: {after_hours: 4, remind_before_hours: 8, escalate_to: pmo}\n",
            "expires",
            "remind_before_hours",
            "the reminder must come before the step expires",
        ),
    ],
)
def test_a_bad_policy_is_named_by_line_and_field(policy, fragment, field, message):
    text = with_policy(policy)
    found = problems_of(text)
    assert any(
        p.field.endswith(field) and message in p.message and p.line >= line_of(text, "approvals:")
        for p in found
    ), found


def test_a_readiness_gate_needs_criteria():
    text = broken(
        "          deliverables: [release_plan]\n",
        "          deliverables: [release_plan]\n          readiness: true\n",
    )
    [problem] = problems_of(text)
    assert problem.field.endswith("gates.readiness")
    assert "readiness_criteria" in problem.message
