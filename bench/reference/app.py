"""The FastAPI reference for bench/bench_serve.sh: platctl serve's GET /v1/documents/{id} and
GET /healthz, written as a FastAPI service would be, on the same PostgreSQL and the same
API token, so that the benchmark's ratio is platctl against a fair rival and not against a
crippled one.

The document route does what platctl serve does for it (lib/http/server.c authenticate,
lib/auth/tokens.c plat_tokens_authenticate, lib/documents/documents.c plat_documents_get):

  * the token's format and CRC-32 checksum first (plat_..., 42 characters), so junk is
    refused without a database round trip;
  * SHA-256 of the token into platctl_api_token_lookup(sha256), the same SQL function:
    no row, revoked, principal disabled or expired is 401;
  * the token's role against the documents.get permission (any of the four roles);
  * the document row as JSON, built by PostgreSQL with the same expression platctl uses,
    plus its audit history, in the token's tenant; with REF_ROW_SECURITY=1 inside a
    transaction that first sets platctl.tenant_id with set_config(..., true), as
    lib/db/db.c does when database.row_security is on;
  * a strong ETag over the body (304 on If-None-Match), as platctl sends.

It is not held back either: an asyncpg pool per worker (prepared statements, asyncpg's
default cache), the tenant resolved inside the document's statement instead of a round
trip of its own, and the row and its history in one statement; the JSON text PostgreSQL
returns goes out as the body without being parsed and re-encoded. What platctl does and
this does not: the per-principal rate limit (the benchmark turns it off in platctl), request
ids, metrics.

Configuration, from the environment: REF_DATABASE_URL (required), REF_ROW_SECURITY (0/1),
REF_POOL_SIZE (connections per worker, default 32).
"""
import hashlib
import os
import re
import zlib

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import Response

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_RE = re.compile(r"plat_[0-9A-Za-z]{37}")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
READERS = {"viewer", "editor", "auditor", "admin"}
ROW_SECURITY = os.environ.get("REF_ROW_SECURITY", "0") == "1"
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

LOOKUP = """SELECT tenant, role, principal_disabled OR revoked, coalesce(expires_at <= now(), false)
            FROM platctl_api_token_lookup($1)"""

# lib/documents/doc_json.h DOC_JSON_HOLD("") and plat_documents_get's extra fields, then
# the history query of plat_documents_get as one more member.
DOC_TIME = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
DOCUMENT = f"""
SELECT (jsonb_build_object('id', d.id, 'name', d.name, 'title', d.title, 'sha256', d.sha256,
        'size', d.size_bytes, 'content_type', d.content_type, 'status', d.status, 'class', d.class,
        'tags', d.tags, 'version', d.version, 'created_by', d.created_by,
        'created_at', {DOC_TIME.format('d.created_at')})
     || jsonb_build_object('legal_hold', d.legal_hold, 'hold_reason', d.hold_reason,
        'held_by', d.held_by, 'held_at', {DOC_TIME.format('d.held_at')})
     || jsonb_build_object('storage_key', d.storage_key, 'summary', d.summary, 'fields', d.fields,
        'class_confidence', d.class_confidence, 'stage_timings', d.stage_timings, 'error', d.error,
        'attempts', d.attempts, 'ai_provider', d.ai_provider, 'deleted', d.deleted_at IS NOT NULL)
     || jsonb_build_object('history', (
        SELECT coalesce(jsonb_agg(jsonb_build_object('at', {DOC_TIME.format('a.at')},
               'action', a.action, 'principal', a.principal, 'request_id', a.request_id,
               'details', a.details) ORDER BY a.id), '[]')
          FROM audit_log a
         WHERE a.tenant_id = d.tenant_id AND a.object_type = 'document' AND a.object_id = d.id::text)))::text
  FROM documents d JOIN tenants t ON t.id = d.tenant_id
 WHERE t.name = $1 AND d.id = $2::uuid"""
TENANT_ID = "SELECT id::text FROM tenants WHERE name = $1"

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
pool = None


@app.on_event("startup")
async def startup():
    global pool
    size = int(os.environ.get("REF_POOL_SIZE", "32"))
    pool = await asyncpg.create_pool(os.environ["REF_DATABASE_URL"], min_size=min(4, size), max_size=size)


@app.on_event("shutdown")
async def shutdown():
    await pool.close()


def problem(status, detail):
    body = '{"type":"about:blank","title":"%s","status":%d,"detail":"%s"}' % (
        {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}[status], status, detail)
    headers = dict(HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(body, status_code=status, media_type="application/problem+json", headers=headers)


def checksum_ok(token):
    v = zlib.crc32(token[5:36].encode())
    want = []
    for _ in range(6):
        want.append(BASE62[v % 62])
        v //= 62
    return "".join(reversed(want)) == token[36:]


@app.get("/healthz")
async def healthz():
    return Response('{"status":"ok"}', media_type="application/json", headers=HEADERS)


@app.get("/v1/documents/{doc_id}")
async def document(doc_id: str, request: Request):
    authz = request.headers.get("authorization", "")
    if authz[:7].lower() != "bearer ":
        return problem(401, "a bearer token is required")
    token = authz[7:].strip()
    if not TOKEN_RE.fullmatch(token) or not checksum_ok(token):
        return problem(401, "invalid token")
    async with pool.acquire() as conn:
        row = await conn.fetchrow(LOOKUP, hashlib.sha256(token.encode()).digest())
        if row is None or row[2] or row[3]:
            return problem(401, "invalid token")
        tenant, role = row[0], row[1]
        if role not in READERS:
            return problem(403, "permission denied")
        if not UUID_RE.fullmatch(doc_id):
            return problem(400, "document must be a UUID")
        if ROW_SECURITY:
            async with conn.transaction():
                tid = await conn.fetchval(TENANT_ID, tenant)
                await conn.execute("SELECT set_config('platctl.tenant_id', $1, true)", tid)
                body = await conn.fetchval(DOCUMENT, tenant, doc_id)
        else:
            body = await conn.fetchval(DOCUMENT, tenant, doc_id)
    if body is None:
        return problem(404, "document '%s' not found" % doc_id)
    etag = '"%s"' % hashlib.sha256(body.encode()).hexdigest()[:32]
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag, **HEADERS})
    return Response(body, media_type="application/json", headers={"ETag": etag, **HEADERS})
