"""Routes declared with their schemas, and the OpenAPI 3 document generated from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import wraps

from flask import request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from server.api import schemas
from server.api.auth import authenticate
from server.api.errors import ApiError
from server.auth import throttle
from server.common.inputs import MAX_JSON_DEPTH, contains_nul, json_too_deep

PREFIX = "/api/v1"
# A path parameter, with or without its converter (`<run_id>`, `<int:endpoint_id>`).
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
_PARAM_TYPES = {"": {"type": "string"}, "int": {"type": "integer", "minimum": 0}}


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    # Media types other than JSON (the CSV import and export): documented as plain strings.
    consumes: str | None = None
    produces: str = "application/json"
    # Query-string parameters: (name, description, JSON schema).
    query: tuple[tuple[str, str, dict], ...] = ()


OPERATIONS: list[Operation] = []


def _parse(model: type[BaseModel], max_bytes: int):
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(400, "payload_too_large", f"The request body exceeds {max_bytes} bytes.")
    request.max_content_length = max_bytes
    # Scanned before parsing: deep enough nesting exhausts the parser's stack (a 500).
    if request.is_json and json_too_deep(request.get_data(cache=True)):
        raise ApiError(
            400, "json_too_deep", f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    if contains_nul(data):
        raise ApiError(400, "invalid_json", "The request body must not contain NUL characters.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(map(str, e["loc"])), "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise ApiError(400, "invalid_request", "The request body is not valid.", details) from exc


def operation(
    bp,
    path,
    method,
    summary,
    response,
    body=None,
    status=200,
    max_bytes=64 * 1024,
    auth=True,
    consumes=None,
    produces="application/json",
    query=(),
):
    """Register a view on `bp`: token check, then JSON body validated by `body`; documented.

    With `produces` other than JSON the view returns its own Response and `response` is None.
    A view may return (body, headers) to add headers (a 202's Location).
    """
    OPERATIONS.append(
        Operation(
            PREFIX + path,
            method.lower(),
            summary,
            body,
            response,
            status,
            consumes,
            produces,
            tuple(query),
        )
    )

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if auth:
                authenticate()
            if body is not None:
                kwargs["body"] = _parse(body, max_bytes)
            result = view(*args, **kwargs)
            if response is None:
                return result
            result, headers = result if isinstance(result, tuple) else (result, {})
            return response.model_validate(result).model_dump(mode="json"), status, headers

        if auth:
            wrapped = throttle.bad_tokens(wrapped)
        bp.add_url_rule(path, view.__name__, wrapped, methods=[method])
        return wrapped

    return decorate


def document(title: str, version: str) -> dict:
    """The OpenAPI 3.1 document of every declared operation."""
    models = {op.response for op in OPERATIONS if op.response}
    models |= {op.body for op in OPERATIONS if op.body}
    models.add(schemas.Error)
    _, defs = models_json_schema(
        [
            (m, "validation" if m in {op.body for op in OPERATIONS} else "serialization")
            for m in models
        ],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(_PARAM.sub(r"{\1}", op.path), {})[op.method] = _op_doc(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


_LOCATION = {
    "headers": {
        "Location": {"description": "The job run's status URL", "schema": {"type": "string"}}
    }
}


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


# Every call can be throttled: token-checked ones after refused tokens, the connect exchange
# by its own limit.
_THROTTLED = "Too many refused tokens or connect codes from this address (error rate_limited)"
_RETRY_AFTER = {
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
}


def _op_doc(op: Operation) -> dict:
    error = {"content": {"application/json": {"schema": _ref(schemas.Error)}}}
    queued = op.status == 202
    doc = {
        "summary": op.summary,
        "responses": {
            str(op.status): {
                "description": "Queued as a job run: poll its status_url" if queued else "OK",
                "content": {op.produces: {"schema": _schema(op.response)}},
                **(_LOCATION if queued else {}),
            },
            "400": {"description": "Malformed or invalid body", **error},
            "401": {"description": "Missing, unknown or revoked token", **error},
            "404": {"description": "Not found in your account", **error},
            "429": {"description": _THROTTLED, **error, **_RETRY_AFTER},
        },
    }
    params = [p.strip("<>").rpartition(":")[::-2] for p in op.path.split("/") if p[:1] == "<"]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _PARAM_TYPES[converter]}
        for name, converter in params
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "description": about, "schema": schema}
        for name, about, schema in op.query
    ]
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None or op.consumes:
        media = op.consumes or "application/json"
        doc["requestBody"] = {"required": True, "content": {media: {"schema": _schema(op.body)}}}
    return doc


def _schema(model: type[BaseModel] | None) -> dict:
    return _ref(model) if model is not None else {"type": "string"}
