"""The readiness review page of a release: /releases/<number>/readiness/."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from relman.approvals.models import ReadinessReview
from relman.approvals.services import readiness
from tests import factories
from tests.approvals import test_readiness as base
from tests.web.helpers import text

# The people and the release of the service tests: a mof release at its readiness review.
_fast, shop, requester, crew, at_review = (
    base._fast,
    base.shop,
    base.requester,
    base.crew,
    base.at_review,
)
MOF_CRITERIA, all_met = base.MOF_CRITERIA, base.all_met


def url(release) -> str:
    return f"/releases/{release.number}/readiness/"


def login(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def form_data(decision: str, **judgements) -> dict[str, str]:
    """The form as a browser posts it: every criterion met unless `judgements` says
    otherwise (as {"met": "unmet", "note": ...})."""
    data = {"decision": decision, "note": ""}
    for key in MOF_CRITERIA:
        given = judgements.get(key, {})
        data[f"{key}-met"] = given.get("met", "met")
        data[f"{key}-deliverable"] = given.get("deliverable", "")
        data[f"{key}-checklist"] = given.get("checklist", "")
        data[f"{key}-note"] = given.get("note", "")
    return data


def test_anonymous_is_sent_to_log_in(at_review):
    response = login().get(url(at_review))
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = login().post(url(at_review), form_data("go"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not ReadinessReview.objects.exists()


def test_a_release_the_user_may_not_see_is_404(at_review):
    stranger = factories.user("olga")
    assert login(stranger).get(url(at_review)).status_code == 404
    assert login(stranger).post(url(at_review), form_data("go")).status_code == 404
    assert not ReadinessReview.objects.exists()


def test_the_requester_sees_it_but_may_not_decide(at_review, requester):
    client = login(requester)
    page = text(client.get(url(at_review)))
    assert "Quality of the release" in page
    assert "requested release" in page
    assert "Decide go" not in page
    response = client.post(url(at_review), form_data("go"))
    assert response.status_code == 403
    assert "requested release" in text(response)
    assert not ReadinessReview.objects.exists()


def test_an_auditor_may_read_only(at_review):
    auditor = factories.user("audrey", "auditor")
    client = login(auditor)
    page = text(client.get(url(at_review)))
    assert "Release criteria" in page and "Decide go" not in page
    assert "Only these roles may decide" in page
    assert client.post(url(at_review), form_data("go")).status_code == 403
    assert not ReadinessReview.objects.exists()


def test_the_crew_decides_no_go_then_go(at_review, crew):
    client = login(crew)
    page = text(client.get(url(at_review)))
    assert "No readiness review yet." in page
    for label in ("Quality of the release", "Risk management plan", "Training and support plans"):
        assert label in page
    assert "Release package (built and tested) v1" in page  # suggested evidence, present
    assert 'value="release_package" selected' in page  # and chosen by default
    response = client.post(
        url(at_review),
        form_data(
            "no_go",
            training_and_support_plans={"met": "unmet", "note": "Night shift not trained."},
        ),
    )
    assert response.status_code == 302 and response["Location"] == url(at_review)
    page = text(client.get(url(at_review)))
    assert "Readiness decided: no-go." in page
    assert "No-go: decided by carl" in page
    assert "Night shift not trained." in page
    review = ReadinessReview.objects.get()
    assert review.decision == "no_go"
    assert not review.criteria.get(key="training_and_support_plans").met

    response = client.post(url(at_review), form_data("go"))
    assert response.status_code == 302
    page = text(client.get(url(at_review)))
    assert "Go: decided by carl" in page
    assert "superseded by a later review" in page
    assert readiness.is_ready(at_review)


def test_a_refused_decision_keeps_the_input_and_names_the_criterion(at_review, crew):
    client = login(crew)
    data = form_data("go", risk_management_plan={"met": "unmet", "note": "Not signed."})
    response = client.post(url(at_review), data)
    assert response.status_code == 400
    page = text(response)
    assert "'Go' needs every criterion met; not met: Risk management plan." in page
    assert 'value="Not signed."' in page
    data = form_data("go")
    del data["package_readiness-met"]
    response = client.post(url(at_review), data)
    assert response.status_code == 400
    assert "Check the marked criteria." in text(response)
    assert 'id="criterion-package_readiness" class="field-error"' in text(response)
    assert not ReadinessReview.objects.exists()


def test_a_stage_without_a_review(shop, requester, crew):
    release = factories.release(requester, shop)
    client = login(crew)
    page = text(client.get(url(release)))
    assert "has no readiness review" in page and "Decide go" not in page
    assert client.post(url(release), form_data("go")).status_code == 409


def test_the_page_in_chinese(at_review, crew):
    client = login(crew)
    client.post("/language/", {"language": "zh-hans", "next": "/releases/"})
    page = text(client.get(url(at_review)))
    assert "发布质量" in page and "风险管理计划" in page


@pytest.mark.parametrize("extra_reviews", [4])
def test_query_count_does_not_grow_with_reviews(at_review, crew, extra_reviews):
    client = login(crew)
    readiness.record_review(crew, at_review, decision="go", criteria=all_met())
    client.get(url(at_review))  # warm the caches (process definition, session)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(at_review)).status_code == 200
    for i in range(extra_reviews):
        readiness.record_review(
            crew,
            at_review,
            decision="no_go" if i % 2 else "go",
            criteria=all_met(risk_management_plan={"met": False}) if i % 2 else all_met(),
        )
    with CaptureQueriesContext(connection) as many:
        page = client.get(url(at_review))
    assert page.status_code == 200
    assert text(page).count('class="readiness-review') == extra_reviews + 1
    assert len(many) == len(one), [q["sql"] for q in many]
