"""The OpenAPI document, with the errors the service really answers with.

FastAPI documents its own 422 shape; this service answers every error as `ErrorOut`, and
some statuses come from the request guard, before any route (400, 408, 413, 415, 500). Each
operation here declares every status it can return, so a client (or a fuzzer checking
status-code and schema conformance) can rely on the document.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.schemas import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
EVERY_OPERATION = {
    "400": "The Host is not trusted (InvalidHost), or the body is not UTF-8 or not JSON.",
    "500": "An unexpected error; the answer's request_id names its log line.",
}
WITH_BODY = {
    "408": "The body did not arrive within DEDUP_BODY_TIMEOUT_SECONDS.",
    "413": "The body is over DEDUP_MAX_BODY_BYTES (an NDJSON upload: DEDUP_MAX_SCAN_BYTES).",
    "415": "The Content-Type is not application/json (or NDJSON for an upload).",
}
VALIDATION = "A parameter or the body is invalid: `detail` says which and why."
NOT_FOUND = "No such article, scan or site."
UNAVAILABLE = "Redis is unreachable; nothing was changed. Retry later."
SECURED = {
    "401": "No API key, or an unknown one: send 'Authorization: Bearer <key>'.",
    "403": "The key lacks the scope this operation needs.",
    "429": "A quota of the key is spent: Retry-After says when to try again.",
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (made once)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            declared = {**EVERY_OPERATION}
            if "requestBody" in operation:
                declared.update(WITH_BODY)
            parameters = operation.get("parameters", [])
            if parameters or "requestBody" in operation:
                declared["422"] = VALIDATION
            if any(p.get("in") == "path" for p in parameters):
                declared["404"] = NOT_FOUND
            if path != "/healthz":
                declared["503"] = UNAVAILABLE
            if "security" in operation:
                declared.update(SECURED)
            for status, description in declared.items():
                answer = responses.get(status)
                if answer is None or status == "422":
                    responses[status] = _error(answer["description"] if answer else description)
                elif "content" not in answer:
                    answer["content"] = {"application/json": {"schema": ERROR_REF}}
    app.openapi_schema = schema
    return schema
