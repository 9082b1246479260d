"""Making a PDF from HTML with WeasyPrint in a child process, with a time limit.

A document that takes too long (a huge table, a pathological stylesheet) is stopped when
its time is up (RELMAN_PDF_TIMEOUT_SECONDS): the child is killed, which a thread could not
be, and the request gets a clear `TimedOut` instead of holding its worker.
"""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.utils.translation import gettext as _

from relman.core.limits import TimedOut

# The child: HTML on stdin, the PDF on stdout. Only it loads WeasyPrint (and the system's
# Pango); `-I` keeps the environment's PYTHON* variables and the user's site out of it.
CHILD = (
    "import sys\n"
    "from weasyprint import HTML\n"
    "html = sys.stdin.buffer.read().decode('utf-8')\n"
    "sys.stdout.buffer.write(HTML(string=html, base_url=sys.argv[1]).write_pdf())\n"
)


class PdfFailed(RuntimeError):
    """WeasyPrint could not make the PDF."""


def time_limit() -> float:
    """How long one PDF may take, in seconds."""
    return float(getattr(settings, "RELMAN_PDF_TIMEOUT_SECONDS", 60))


def render_pdf(html: str, base_url: str, *, timeout: float | None = None) -> bytes:
    """The PDF of an HTML document, made in a child process; TimedOut after `timeout`
    seconds (default: RELMAN_PDF_TIMEOUT_SECONDS)."""
    limit = time_limit() if timeout is None else timeout
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", CHILD, base_url],
            input=html.encode("utf-8"),
            capture_output=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise TimedOut(
            _("Making the PDF took longer than %(seconds)s seconds and was stopped.")
            % {"seconds": f"{limit:g}"}
        ) from exc
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        raise PdfFailed(done.stderr.decode("utf-8", "replace")[-2000:])
    return done.stdout
