"""The OpenAPI 3.1 document, generated from the endpoint declarations (so it cannot drift from them)."""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from .api import Endpoint

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "details"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
}
ERRORS = {"400": "malformed", "401": "not authenticated", "403": "not allowed", "404": "unknown",
          "409": "state conflict", "422": "invalid value", "429": "rate limited",
          "503": "the database (or the voice engine) is not answering, or the server is busy; nothing changed, retry"}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_openapi(endpoints: list[Endpoint], version: str) -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for ep in endpoints:
        path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", ep.path)
        op: dict[str, Any] = {"summary": ep.summary, "tags": [ep.tag], "operationId": f"{ep.method.lower()}_"
                              + re.sub(r"\W+", "_", path).strip("_")}
        params = []
        for name, conv in re.findall(r"\{(\w+)(:\w+)?\}", ep.path):
            params.append({"name": name, "in": "path", "required": True,
                           "schema": {"type": "integer"} if conv == ":int" else {"type": "string"}})
        for name, desc in ep.query.items():
            params.append({"name": name, "in": "query", "required": False, "description": desc,
                           "schema": {"type": "integer"} if desc == "int" else {"type": "string"}})
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {"required": False, "content": {"application/json": {
                "schema": _schema(ep.body, components)}}}
        ok: dict[str, Any] = {"description": "OK"}
        if ep.media_type == "application/json":
            ok["content"] = {"application/json": {"schema": _schema(ep.response, components)
                                                  if ep.response else {"type": "object"}}}
        else:
            ok["content"] = {ep.media_type: {"schema": {"type": "string", "format": "binary"}
                                             if ep.media_type.startswith("audio") or ep.media_type.startswith("image")
                                             else {"type": "string"}}}
        responses: dict[str, Any] = {str(ep.status): ok}
        for code, desc in ERRORS.items():
            responses[code] = {"description": desc, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
        if ep.body is not None:
            responses["413"] = {"description": "body too large (server/limits.py)", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
        if ep.path == "/healthz":
            responses["503"] = {"description": "not ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Health"}}}}
        op["responses"] = responses
        if ep.allow is not None:
            op["security"] = [{"bearer": []}, {"cookie": []}]
            op["x-allowed-actors"] = sorted(ep.allow)
        paths.setdefault(path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "QMS một cửa — public API", "version": version,
                 "description": "Queueing for one-stop public service centres. Errors: "
                                "{\"error\": {\"code\", \"message\", \"details\"}}."},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "qms_token"}}},
    }
