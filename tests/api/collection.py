#!/usr/bin/env python3
"""A Postman collection (v2.1) generated from platctl serve's /openapi.json, for newman.

Usage: collection.py OPENAPI_JSON > collection.json

Run it with the variables base (the server's URL), token (an admin's API token) and
document (a document's id). Generated from the spec rather than written by hand, so that
every route the spec lists is exercised and a route the spec gets wrong fails:
  - every route that needs a token, without one: 401 with problem details;
  - every GET route without path parameters, and GET /v1/documents/{document}: the status
    the spec documents, and a JSON body valid against the documented schema;
  - every other GET route with an id: 404 for an id that does not exist, problem details;
  - every route taking a JSON body: a body that is not an object is 400, another media
    type is 415, both with problem details.
Streams (Server-Sent Events, the WebSocket upgrade) are left to their own tests: newman
would wait on them for ever.
"""

import json
import sys
import uuid

PROBLEM = {"type": "object", "required": ["type", "title", "status", "request_id"],
           "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                          "status": {"type": "integer"}, "request_id": {"type": "string"}}}


def inline(schema, components, depth=0):
    """$refs resolved in place: newman's validator sees one self-contained schema."""
    if depth > 20:
        raise SystemExit("schema $refs nest too deep")
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return inline(components[name], components, depth + 1)
        return {k: inline(v, components, depth + 1) for k, v in schema.items()}
    if isinstance(schema, list):
        return [inline(v, components, depth + 1) for v in schema]
    return schema


def url(path):
    parts = [p for p in path.strip("/").split("/")]
    return {"raw": "{{base}}" + path, "host": ["{{base}}"], "path": parts}


def fill(pattern, value_for):
    out = []
    for seg in pattern.strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            seg = value_for(seg[1:-1])
        out.append(seg)
    return "/" + "/".join(out)


def test_script(status, schema=None, problem=False, media=None):
    lines = [f"pm.test('status {status}', function () {{ pm.response.to.have.status({status}); }});"]
    if problem:
        lines.append("pm.test('problem details', function () {"
                     " pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');"
                     f" pm.response.to.have.jsonSchema({json.dumps(PROBLEM)}); }});")
    if schema is not None:
        lines.append(f"pm.test('body matches the spec', function () {{ pm.response.to.have.jsonSchema({json.dumps(schema)}); }});")
    if media:
        lines.append(f"pm.test('media type', function () {{ pm.expect(pm.response.headers.get('Content-Type')).to.include({json.dumps(media)}); }});")
    lines.append("pm.test('request id', function () { pm.expect(pm.response.headers.get('X-Request-ID')).to.be.a('string'); });")
    return [{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]


def item(name, method, path, status, auth=True, body=None, ctype=None, **checks):
    headers = []
    if auth:
        headers.append({"key": "Authorization", "value": "Bearer {{token}}"})
    req = {"method": method, "header": headers, "url": url(path)}
    if body is not None:
        headers.append({"key": "Content-Type", "value": ctype})
        req["body"] = {"mode": "raw", "raw": body}
    return {"name": name, "request": req, "event": test_script(status, **checks)}


def main():
    spec = json.load(open(sys.argv[1]))
    components = spec.get("components", {}).get("schemas", {})
    unknown = str(uuid.UUID(int=0x5EED))
    items = []
    for pattern, ops in spec["paths"].items():
        for method, op in ops.items():
            m = method.upper()
            responses = op["responses"]
            ok = next(c for c in responses if c.startswith("2") or c == "101")
            ok_content = responses[ok].get("content", {})
            if ok == "101" or "text/event-stream" in ok_content or pattern.startswith("/docs"):
                continue
            # The document's security applies unless the operation says otherwise ([]: public).
            needs_token = bool(op.get("security", spec.get("security")))
            path_any = fill(pattern, lambda _p: unknown)
            title = f"{m} {pattern}"
            if needs_token:
                items.append(item(f"{title}: no token", m, path_any, 401, auth=False, problem=True))
            if m == "GET":
                if "{" not in pattern or pattern == "/v1/documents/{id}":
                    path = fill(pattern, lambda _p: "{{document}}")
                    js = ok_content.get("application/json", {}).get("schema")
                    media = None if js else next(iter(ok_content), None)
                    items.append(item(f"{title}", m, path, int(ok), auth=needs_token,
                                      schema=inline(js, components) if js else None, media=media))
                else:
                    items.append(item(f"{title}: unknown id", m, path_any, 404, problem=True))
            body = op.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                items.append(item(f"{title}: body not an object", m, path_any, 400, body="[1, 2]",
                                  ctype="application/json", problem=True))
                items.append(item(f"{title}: wrong media type", m, path_any, 415, body="reason=x",
                                  ctype="application/x-www-form-urlencoded", problem=True))
    collection = {
        "info": {"name": "platctl REST API (from /openapi.json)",
                 "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": items,
        "variable": [{"key": "base", "value": "http://127.0.0.1:8080"}, {"key": "token", "value": ""},
                     {"key": "document", "value": ""}],
    }
    json.dump(collection, sys.stdout, indent=1)


main()
