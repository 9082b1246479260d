"""The approvals app's gates, without a database: the approval policy and the readiness
review, evaluated from options and facts, and their refusals in both languages."""

from __future__ import annotations

from django.utils import translation

from relman.approvals.gates import ApprovalsGate, ReadinessGate
from relman.processes.definition import Process, Stage, Variant
from relman.processes.gates import Snapshot, Unmet, Words

POLICY = [
    {"role": "pmo", "count": 2},
    {"parallel": [{"role": "operations"}, {"role": "cab_member", "optional": True}]},
]
GATE = ApprovalsGate()
STEPS = GATE.options(POLICY)
FLOW = Variant(
    "v",
    {"en": "V", "zh-hans": "流程"},
    (Stage("review", {"en": "Review", "zh-hans": "评审"}, ("pmo",), approvals=STEPS),),
)
PROCESS = Process(
    "p",
    {"en": "P", "zh-hans": "P"},
    (FLOW,),
    roles={"pmo": {"en": "PMO", "zh-hans": "项目管理办公室"}},
)


def snap(**facts) -> Snapshot:
    return Snapshot("upgrade", "planned", "standard", "review", **facts)


def test_each_required_step_counts_its_approvals_and_optional_ones_never_hold():
    assert [s.key for s in STEPS] == ["pmo", "operations", "cab_member"]
    assert GATE.evaluate(STEPS, snap(approvals={"pmo": 1})) == [
        Unmet("approval", "pmo", 2, 1),
        Unmet("approval", "operations", 1, 0),
    ]
    assert GATE.evaluate(STEPS, snap(approvals={"pmo": 2, "operations": 1})) == []


def test_the_refusal_in_english_and_in_chinese():
    unmet = Unmet("approval", "pmo", 2, 1)
    words = Words(PROCESS, FLOW, "review")
    with translation.override("en"):
        assert GATE.describe(unmet, words) == (
            "Stage 'Review' needs 2 approval(s) by 'PMO' (has 1)."
        )
    with translation.override("zh-hans"):
        assert (
            GATE.describe(unmet, words)
            == "阶段“评审”需要“项目管理办公室”的 2 个审批（已有 1 个）。"
        )


def test_a_readiness_review_must_have_said_go():
    gate = ReadinessGate()
    assert gate.evaluate(True, snap()) == [Unmet("readiness", "review")]
    assert gate.evaluate(True, snap(ready=True)) == []
    assert [p.message for p in gate.problems(True, {}, [])] == [
        "a readiness review needs 'readiness_criteria' at the top of the file"
    ]
