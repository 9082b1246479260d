"""The CMDB's one door for writes, split by topic; the application functions stay importable
from here (`relman.cmdb.services.create_application`)."""

from __future__ import annotations

from relman.cmdb.services.applications import create_application, set_process
from relman.cmdb.services.items import create_item, retire_item, update_item
from relman.cmdb.services.relationships import add_relationship, remove_relationship
from relman.cmdb.services.types import create_type, update_type
from relman.cmdb.services.versions import record_deployed_version

__all__ = [
    "add_relationship",
    "create_application",
    "create_item",
    "create_type",
    "record_deployed_version",
    "remove_relationship",
    "retire_item",
    "set_process",
    "update_item",
    "update_type",
]
