"""The people and releases the CAB tests start from: application erp following seed 000's
MOF process, whose readiness review has an approval step decided at a CAB meeting.

    planning_and_building --> preparation --> readiness_review --> deployment --> review
                                               gate: readiness "go" + cab step (cab: true)

rita requests erp releases and carl does their work (he holds every MOF role for erp, so
he may run the CAB too); chris and mia are CAB members for every application (chris
chairs), max is erp's release manager (he may run the CAB, not chair it), rob requests erp
releases and sits on the CAB, and nina holds no role at all.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from relman.accounts import services as accounts
from relman.approvals.services import cab
from tests import factories

MOF_STAGE = "readiness_review"


class CabWorld:
    """Made lazily, through the services, like a real user would."""

    def __init__(self) -> None:
        factories.processes()
        self.app = factories.application("erp", process="mof")
        self.rita = factories.user("rita", "requester", app=self.app, email="rita@example.com")
        self.carl = factories.crew(self.app, "carl")
        self.chris = factories.user(
            "chris", "cab_member", email="chris@example.com", display_name="Chris Chair"
        )
        self.mia = factories.user("mia", "cab_member", email="mia@example.com")
        self.max = factories.user("max", "release_manager", app=self.app)
        self.rob = factories.user("rob", "requester", app=self.app)
        accounts.assign_role(None, self.rob, "cab_member", None)
        self.nina = factories.user("nina")

    def release(self, title: str = "ERP 2.0", requester: Any = None, **fields: Any):
        """An erp release waiting for the CAB in the readiness review."""
        made = factories.release(requester or self.rita, self.app, title=title, **fields)
        return factories.walk_to(self.carl, made, MOF_STAGE)

    def fresh(self, title: str = "Early work"):
        """An erp release still in its first stage: not waiting for the CAB."""
        return factories.release(self.rita, self.app, title=title)

    def meeting(self, title: str = "Weekly CAB", chair: Any = None, members=None, days: int = 1):
        return cab.schedule_meeting(
            self.chris,
            title,
            timezone.now() + timedelta(days=days),
            "Room 5",
            chair or self.chris,
            members if members is not None else [self.mia],
        )

    def quorate(self, meeting: Any, **extra: bool):
        """Record the chair and mia present (a quorum)."""
        present = {meeting.chair.username: True, "mia": True, **extra}
        return cab.record_attendance(self.chris, meeting, present)

    @cached_property
    def waiting(self):
        return self.release()


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, its white space collapsed (a table cell wraps its words over
    lines): with poppler's pdftotext when installed, else with pypdf."""
    if shutil.which("pdftotext"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "minutes.pdf"
            path.write_bytes(pdf)
            done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
            return " ".join(done.stdout.decode().split())
    pypdf = pytest.importorskip("pypdf", reason="needs pdftotext (poppler-utils) or pypdf")
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())
