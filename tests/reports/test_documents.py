"""Documents made from the record (relman/reports/documents.py): real files, read back."""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation
from openpyxl import load_workbook

from relman.accounts.services import create_token
from relman.core.errors import NotFound, ValidationFailed
from relman.releases import services
from relman.releases.choices import Outcome
from relman.reports import documents, kpi, periods
from relman.reports.filters import KpiQuery
from tests import factories

pytestmark = pytest.mark.django_db
TITLE = "客户关系管理系统升级"


def closed_hhlc_release():
    """An hhlc standard upgrade walked from request to closed, returned once on the way."""
    app = factories.application("core", process="hhlc")
    requester = factories.user("rex", "requester", app=app, department="Leasing business")
    worker = factories.crew(app)
    release = factories.release(requester, app, title=TITLE, version_number="2.1.0")
    first = release.stage
    returned = False
    with translation.override("en"):
        while release.status == "in_progress":
            _process, variant = services.flow_of(release)
            last = release.stage == variant.stages[-1].key
            factories.meet_gate(worker, release)
            if not last:
                release = services.advance(worker, release, revision=release.revision)
                if not returned:
                    release = services.return_to_stage(
                        worker,
                        release,
                        stage=first,
                        reason="测试环境未就绪",
                        revision=release.revision,
                    )
                    returned = True
            else:
                release = services.close(worker, release, revision=release.revision)
    assert (release.status, release.outcome) == ("closed", Outcome.SUCCEEDED)
    return release, requester, worker


def api(user) -> Client:
    _token, secret = create_token(None, user, name="docs")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_seed_001s_six_documents_come_out_of_a_closed_hhlc_release(presets):
    release, requester, _worker = closed_hhlc_release()
    seen = {}
    for name in documents.RELEASE_DOCUMENTS:
        made = documents.release_file(requester, release.number, name, "md", "en")
        assert made.filename == f"{release.number}-{name}.md"
        seen[name] = made.content.decode()
        assert release.number in seen[name] and TITLE in seen[name], name
    assert seen["release_report"].startswith("# Release report")
    assert "Task request form" in seen["task_request"]
    assert "Release plan" in seen["release_plan"]
    assert "Release evaluation report" in seen["release_evaluation"]
    assert "Product delivery list" in seen["delivery_list"]
    # the problem (the return) with its reason, and the solution: advancing again
    assert "测试环境未就绪" in seen["release_report"]
    assert "Advanced from" in seen["release_report"]
    # deliverables with their SHA-256
    version = release.deliverables.first().versions.first()
    if version.sha256:
        assert version.sha256 in seen["delivery_list"]
    quarter = periods.current_quarter(release.actual_end).key
    stats = documents.period_file(requester, "release_statistics", quarter, "md", "en")
    text = stats.content.decode()
    assert text.startswith("# Release statistics") and release.number in text


def test_a_chinese_pdf_of_the_release_report(presets):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: cannot read the PDF back")
    release, requester, _worker = closed_hhlc_release()
    made = documents.release_file(requester, release.number, "release_report", "pdf", "zh-hans")
    assert made.content.startswith(b"%PDF") and made.content_type == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=made.content, capture_output=True, check=True
    ).stdout.decode()
    assert text.lstrip().startswith("发布报告")  # the title, in the process's words
    assert TITLE in text
    assert release.number in text


def test_the_quarterly_analysis_xlsx_holds_the_kpi_figures(history):
    made = documents.period_file(history.viewer, "quarterly_analysis", "2026Q3", "xlsx", "en")
    assert made.filename == "2026Q3-quarterly_analysis.xlsx"
    book = load_workbook(BytesIO(made.content))
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True) if row}
    figures = kpi.kpis(history.viewer, KpiQuery(period="2026Q3"))
    assert summary["Releases closed"] == figures.closed
    rate = figures.success_rate
    assert summary["Release success rate"] == (
        f"{rate.value:g} % ({rate.numerator}/{rate.denominator})"
    )
    review = book.worksheets[-1]
    numbers = [row[0] for row in review.iter_rows(min_row=2, values_only=True)]
    failed = kpi.releases_behind(history.viewer, KpiQuery(period="2026Q3"), "change_failures")
    assert sorted(numbers) == sorted(failed.values_list("number", flat=True))
    assert numbers


def test_an_organisations_template_wins(presets, tmp_path, settings):
    release, requester, _worker = closed_hhlc_release()
    own = tmp_path / "templates" / "reports" / "documents"
    own.mkdir(parents=True)
    (own / "release_report.md").write_text("OUR OWN REPORT of {{ document.subject }}\n")
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path / "templates"]}]
    with override_settings(DATA_DIR=tmp_path, TEMPLATES=templates):
        made = documents.release_file(requester, release.number, "release_report", "md", "en")
        other = documents.release_file(requester, release.number, "release_plan", "md", "en")
    assert made.content.decode().startswith(f"OUR OWN REPORT of {release.number}")
    assert other.content.decode().startswith("# Release plan")


def test_the_settings_search_the_data_dir_templates_first(settings):
    assert settings.TEMPLATES[0]["DIRS"][0] == settings.DATA_DIR / "templates"


def test_refusals(presets):
    release, requester, _worker = closed_hhlc_release()
    outsider = factories.user("otto", "requester", app=factories.application("hr"))
    with pytest.raises(NotFound):
        documents.release_file(outsider, release.number, "release_report", "md")
    with pytest.raises(ValidationFailed) as refused:
        documents.release_file(requester, release.number, "minutes", "md")
    assert refused.value.field == "name"
    with pytest.raises(ValidationFailed) as refused:
        documents.release_file(requester, release.number, "release_report", "docx")
    assert refused.value.field == "format"
    quarter = periods.current_quarter(release.actual_end).key
    hidden = documents.period_file(outsider, "release_statistics", quarter, "md", "en")
    assert release.number not in hidden.content.decode()


def test_the_api_gives_the_files(presets):
    release, requester, _worker = closed_hhlc_release()
    base = f"/api/v1/reports/releases/{release.number}/documents"
    response = api(requester).get(f"{base}/release_report.xlsx")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f'filename="{release.number}-release_report.xlsx"' in response["Content-Disposition"]
    response = api(requester).get(f"{base}/release_report.md", {"language": "zh-hans"})
    assert response.content.decode().startswith(f"# 发布报告\n\n{release.number} · {TITLE}")
    assert Client().get(f"{base}/release_report.md").status_code == 401
    outsider = factories.user("otto", "requester", app=factories.application("hr"))
    assert api(outsider).get(f"{base}/release_report.md").status_code == 404
    bad = api(requester).get(f"{base}/nothing.md")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    bad = api(requester).get(f"{base}/release_report.doc")
    assert bad.status_code == 400 and "format" in bad.json()["errors"]
    quarter = periods.current_quarter(release.actual_end).key
    good = api(requester).get(f"/api/v1/reports/quarters/{quarter}/analysis.md")
    assert good.status_code == 200 and "| Releases closed | 1 |" in good.content.decode()
    bad = api(requester).get("/api/v1/reports/quarters/2026-07/analysis.md")
    assert bad.status_code == 400 and "quarter" in bad.json()["errors"]
    stats = api(requester).get(f"/api/v1/reports/periods/{quarter}/statistics.md")
    assert stats.status_code == 200 and release.number in stats.content.decode()


def test_the_pages_link_and_give_the_documents(presets, client):
    release, requester, _worker = closed_hhlc_release()
    client.force_login(requester)
    page = client.get(f"/releases/{release.number}/").content.decode()
    link = f"/releases/{release.number}/documents/release_report.pdf"
    assert 'id="documents"' in page and link in page
    assert f"/releases/{release.number}/documents/delivery_list.xlsx" in page
    download = client.get(f"/releases/{release.number}/documents/task_request.md")
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith(f'{release.number}-task_request.md"')
    assert client.get(f"/releases/{release.number}/documents/nothing.md").status_code == 404
    dashboard = client.get("/reports/", {"period": "2026Q3"}).content.decode()
    assert "/reports/documents/quarterly_analysis/2026Q3.xlsx" in dashboard
    assert "/reports/documents/release_statistics/2026Q3.pdf" in dashboard
    month = client.get("/reports/", {"period": "2026-07"}).content.decode()
    assert "quarterly_analysis" not in month and "/release_statistics/2026-07.md" in month
    custom = client.get("/reports/", {"from": "2026-07-01", "to": "2026-07-09"}).content.decode()
    assert 'id="report-documents"' not in custom
    stats = client.get("/reports/documents/release_statistics/2026-07.md")
    assert stats.status_code == 200 and stats.content.decode().startswith("# Release statistics")
