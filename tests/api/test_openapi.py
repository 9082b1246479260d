"""The API's own description: every operation is in the permission matrix, and every
operation declares the errors it can answer with."""

from __future__ import annotations

import json

import pytest

from relman.accounts.api import router as accounts_router
from relman.approvals.api import router as approvals_router
from relman.approvals.api_cab import router as cab_router
from relman.approvals.api_readiness import router as readiness_router
from relman.audit.api import router as audit_router
from relman.cmdb.api import router as cmdb_router
from relman.notifications.api import router as notifications_router
from relman.processes.api import router as processes_router
from relman.releases.api import router as releases_router
from tests.api.matrix import openapi
from tests.api.test_accounts import TestAccountEndpoints
from tests.api.test_audit import TestAuditEndpoints
from tests.api.test_cmdb import TestReferenceDataEndpoints
from tests.api.test_processes import TestProcessEndpoints
from tests.api.test_releases import TestReleaseEndpoints
from tests.approvals import test_cab_api, test_inbox_api
from tests.approvals.test_readiness_api import TestReadinessMatrix
from tests.notifications import test_api as notifications_api

pytestmark = pytest.mark.django_db

MATRICES = (
    TestReleaseEndpoints,
    TestProcessEndpoints,
    TestAuditEndpoints,
    TestAccountEndpoints,
    TestReferenceDataEndpoints,
    TestReadinessMatrix,
    test_cab_api.TestCabApi,
    notifications_api.TestNotificationEndpoints,
    test_inbox_api.TestApprovalEndpoints,
)
ROUTERS = (
    releases_router,
    processes_router,
    audit_router,
    accounts_router,
    cmdb_router,
    readiness_router,
    cab_router,
    notifications_router,
    approvals_router,
)


def operations_of_the_routers() -> set[str]:
    """Every operation of the five routers, by its operation id."""
    ids = set()
    for router in ROUTERS:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                ids.add(operation.view_func.__name__)
    return ids


def operations_in_the_document() -> dict[str, tuple[str, str]]:
    """operation id ending -> (method, path) for every operation of /api/v1."""
    found = {}
    for path, methods in openapi()["paths"].items():
        for method, operation in methods.items():
            found[operation["operationId"]] = (method.upper(), path)
    return found


def test_every_operation_of_the_routers_is_in_a_permission_matrix():
    covered = {(e.method, e.path) for m in MATRICES for e in m.endpoints}
    document = operations_in_the_document()
    for name in operations_of_the_routers():
        matches = [where for op_id, where in document.items() if op_id.endswith(f"_{name}")]
        assert matches, f"{name} is not in the OpenAPI document"
        assert set(matches) & covered, f"{name} {matches} has no permission-matrix entry"


def test_every_matrix_entry_is_a_documented_operation():
    document = set(operations_in_the_document().values())
    for matrix in MATRICES:
        for endpoint in matrix.endpoints:
            assert (endpoint.method, endpoint.path) in document, endpoint.name


def test_every_operation_declares_the_errors_every_operation_can_give():
    for path, methods in openapi()["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert {"401"} <= codes, (method, path)
            assert {"400", "403", "404"} <= codes, (method, path)
            if method != "get":
                assert {"409", "422"} & codes or path.endswith("/validate"), (method, path)


def test_errors_share_one_schema():
    schema = openapi()["components"]["schemas"]["ErrorOut"]
    assert set(schema["required"]) == {"code", "detail"}
    assert {"errors", "unmet"} <= set(schema["properties"])


def test_uploads_are_multipart_with_a_file_part():
    operation = openapi()["paths"]["/api/v1/releases/{ref}/deliverables"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"key", "file", "url", "note"} <= set(form["properties"])
    assert all(p["in"] == "path" for p in operation.get("parameters", []))


def test_no_two_schemas_share_a_component_name():
    """The document names each component after its class: two classes of one name would
    describe one answer with the other's fields."""
    from collections import defaultdict

    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    modules = defaultdict(set)
    for schema in subclasses(Schema):
        if schema.__module__.startswith("relman."):
            modules[schema.__name__].add(schema.__module__)
    assert {name: m for name, m in modules.items() if len(m) > 1} == {}


def test_the_inbox_describes_the_schedule_it_answers_with():
    schemas = openapi()["components"]["schemas"]
    ref = schemas["InboxItemOut"]["properties"]["window"]["anyOf"][0]["$ref"]
    window = schemas[ref.rsplit("/", 1)[1]]
    assert set(window["properties"]) == {"window", "start", "end", "outside_window_reason"}


def test_the_served_document_has_no_key_twice(client):
    """Swagger UI refuses a document with a repeated key ("duplicated mapping key"): an
    `openapi_extra` that names a status as the string "200" beside Ninja's integer 200 gave
    one, and the docs page showed nothing."""
    repeated = []

    def pairs(items: list) -> dict:
        keys = [key for key, _value in items]
        repeated.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(items)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=pairs)
    assert repeated == []


def test_the_audit_export_row_has_the_export_files_columns():
    from relman.audit.exports import COLUMNS
    from relman.releases.schemas import AuditExportRow

    assert list(AuditExportRow.model_fields) == COLUMNS
