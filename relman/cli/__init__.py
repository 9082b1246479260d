"""The `relman` command: server administration (Django in-process) and an API client (HTTP).

Entry point: `relman.cli.main:app`. Exit codes are documented in `relman.cli.output.ExitCode`.
"""
