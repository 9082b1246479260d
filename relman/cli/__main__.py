"""`python -m relman.cli` runs the `relman` command."""

from relman.cli.main import app

app(prog_name="relman")
