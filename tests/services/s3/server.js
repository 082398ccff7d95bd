#!/usr/bin/env node
// S3-compatible test service for platctl: s3rver (in-process, on an internal loopback port)
// behind a proxy on 127.0.0.1 that
//   - verifies AWS Signature Version 4 on every request (Authorization header and presigned
//     query), recomputing the signature with SignatureV4 from @smithy/signature-v4,
//   - verifies the payload (x-amz-content-sha256, Content-MD5, x-amz-checksum-*, aws-chunked
//     chunk signatures) before anything reaches s3rver, spooling bodies to disk,
//   - answers failures with S3-style XML errors,
//   - fills a few gaps of s3rver 3.7 (ListParts, ListMultipartUploads, AbortMultipartUpload),
//   - injects faults on demand through an unauthenticated control API under /__control/.
// Only verified requests reach s3rver, stripped of the client's signature and marked as
// signed by s3rver's built-in account (s3rver checks no SigV4 signature itself), with
// aws-chunked bodies decoded. Two s3rver bugs are patched in-process (see below).
// request.js beside this file is a small signing client for requests awscli does not make.
//
// Usage: node server.js [DATA_DIR]
// Environment:
//   S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY  the one accepted key pair (required)
//   S3_TEST_DATA_DIR     data directory when no argument is given (buckets/ and spool/ go there)
//   S3_TEST_BUCKETS      buckets to create at start, comma or space separated (platctl-test)
//   S3_TEST_PORT         proxy port on 127.0.0.1; 0 (default) picks a free one
//   S3_TEST_PORT_FILE    once listening, the chosen port is written there (atomically)
//   S3_TEST_LOG          request log file (default: stderr)
//   S3_TEST_MAX_SKEW_SECONDS  allowed clock skew (900)
// Once listening it prints PORT=nnnn on stdout.
//
// Control API (no authentication; "__control" is not a valid bucket name):
//   POST   /__control/faults   {"mode":"status","status":503,"count":2}
//                              {"mode":"reset","count":1}      (socket destroyed, no answer)
//                              {"mode":"delay","ms":3000,"count":1}
//                              optional: "method":"PUT", "path_prefix":"/bucket/key",
//                              "code"/"message" (status mode), "count":-1 (until cleared);
//                              a JSON array adds several faults at once
//   GET    /__control/faults   the active faults
//   DELETE /__control/faults   clears them
//   GET    /__control/stats    counters (JSON);  DELETE /__control/stats resets them
//   GET    /__control/health   {"ok":true}
// Faults apply to S3 requests that passed authentication, before their body is read.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const fsp = fs.promises;
const http = require('http');
const path = require('path');
const { pipeline } = require('stream');

// s3rver 3.7 makes ListObjectsV2 continuation tokens with single DES ('des'), which OpenSSL 3
// (Node >= 17) has only in its legacy provider, so every truncated listing failed with a 500.
// Triple DES with three equal keys is the same cipher, and it is in the default provider.
for (const fn of ['createCipheriv', 'createDecipheriv']) {
	const orig = crypto[fn];
	crypto[fn] = function (algorithm, key, iv, options) {
		if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'des' && key && key.length === 8) {
			return orig.call(this, 'des-ede3-cbc', Buffer.concat([key, key, key]), iv, options);
		}
		return orig.call(this, algorithm, key, iv, options);
	};
}

const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

// s3rver removes a deleted object's empty parent directories without expecting a concurrent
// delete (DeleteObjects deletes its keys in parallel) to get there first: one of them then
// failed with ENOENT, a 500 for a delete that had worked. The object's files are gone by then.
const deleteObject = FilesystemStore.prototype.deleteObject;
FilesystemStore.prototype.deleteObject = async function (bucket, key) {
	try {
		return await deleteObject.call(this, bucket, key);
	} catch (err) {
		if (err && (err.code === 'ENOENT' || err.code === 'ENOTEMPTY')) return undefined;
		throw err;
	}
};
const { SignatureV4, getCanonicalHeaders } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

// ---------------------------------------------------------------------------------------------
// Configuration

function die(msg) {
	process.stderr.write(`s3 test service: ${msg}\n`);
	process.exit(2);
}

const cfg = {
	dataDir: process.argv[2] || process.env.S3_TEST_DATA_DIR,
	port: Number(process.env.S3_TEST_PORT || 0),
	portFile: process.env.S3_TEST_PORT_FILE || '',
	logFile: process.env.S3_TEST_LOG || '',
	accessKey: process.env.S3_TEST_ACCESS_KEY || '',
	secretKey: process.env.S3_TEST_SECRET_KEY || '',
	buckets: (process.env.S3_TEST_BUCKETS || 'platctl-test').split(/[\s,]+/).filter(Boolean),
	maxSkewMs: Number(process.env.S3_TEST_MAX_SKEW_SECONDS || 900) * 1000,
};
if (!cfg.dataDir) die('usage: server.js DATA_DIR (or S3_TEST_DATA_DIR)');
if (!cfg.accessKey || !cfg.secretKey) die('S3_TEST_ACCESS_KEY and S3_TEST_SECRET_KEY must be set');
if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) die(`bad S3_TEST_PORT ${cfg.port}`);
cfg.dataDir = path.resolve(cfg.dataDir);
const BUCKETS_DIR = path.join(cfg.dataDir, 'buckets');
const SPOOL_DIR = path.join(cfg.dataDir, 'spool');

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_PRESIGNED_TTL = 7 * 24 * 3600;
const AUTH_QUERY_PARAMS = new Set([
	'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires',
	'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token',
]);
// Hop-by-hop headers: never forwarded, either way.
const HOP_BY_HOP = new Set([
	'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
	'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
]);

// AWS's signer. uriEscapePath: false because S3 signs the path as sent (encoded once, not
// normalised); applyChecksum: false because the payload hash comes from the request.
const signer = new SignatureV4({
	credentials: { accessKeyId: cfg.accessKey, secretAccessKey: cfg.secretKey },
	region: 'us-east-1',
	service: 's3',
	sha256: Hash.bind(null, 'sha256'),
	uriEscapePath: false,
	applyChecksum: false,
});
const CREDENTIALS = { accessKeyId: cfg.accessKey, secretAccessKey: cfg.secretKey };

// ---------------------------------------------------------------------------------------------
// Logging and counters

const logStream = cfg.logFile ? fs.createWriteStream(cfg.logFile, { flags: 'a' }) : process.stderr;
function log(line) {
	logStream.write(`${new Date().toISOString()} ${line}\n`);
}

function newStats() {
	return {
		started_at: new Date().toISOString(),
		requests_total: 0,
		by_method: {},
		by_status: {},
		auth_ok: 0,
		auth_failures: 0,
		auth_failures_by_code: {},
		payload_failures: 0,
		faults_injected: 0,
		faults_by_mode: {},
		forwarded: 0,
		control_requests: 0,
	};
}
let stats = newStats();
const bump = (obj, key) => { obj[key] = (obj[key] || 0) + 1; };

// ---------------------------------------------------------------------------------------------
// Errors

class S3Err extends Error {
	constructor(status, code, message, extra) {
		super(message);
		this.status = status;
		this.code = code;
		this.extra = extra || {};
	}
}

const xmlEscape = s => String(s).replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);

function errorXml(code, message, requestId, extra) {
	let body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>`;
	for (const [k, v] of Object.entries(extra || {})) {
		if (v !== undefined && v !== null) body += `<${k}>${xmlEscape(v)}</${k}>`;
	}
	return body + `<RequestId>${requestId}</RequestId><HostId>platctl-test-s3</HostId></Error>`;
}

// Answers an S3 error. A request whose body was not read yet is answered with
// Connection: close, so that a client waiting on "Expect: 100-continue" and a half-sent body
// never leave the connection in an ambiguous state.
function sendError(ctx, err) {
	const { res } = ctx;
	ctx.errorCode = err.code;
	if (res.headersSent || res.destroyed) {
		res.destroy();
		return;
	}
	const body = errorXml(err.code, err.message, ctx.requestId, err.extra);
	const headers = {
		'content-type': 'application/xml',
		'content-length': Buffer.byteLength(body),
		'x-amz-request-id': ctx.requestId,
	};
	if (!ctx.bodyConsumed && ctx.hasBody) headers.connection = 'close';
	res.writeHead(err.status, headers);
	res.end(body);
}

function sendXml(ctx, status, xml, extraHeaders) {
	const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
	ctx.res.writeHead(status, {
		'content-type': 'application/xml',
		'content-length': Buffer.byteLength(body),
		'x-amz-request-id': ctx.requestId,
		...(extraHeaders || {}),
	});
	ctx.res.end(body);
}

// Before an early answer (auth failure, injected status) to a request whose body the client
// sends without waiting for "100 Continue", read and discard the body (up to 64 MiB, 10 s),
// so that the answer is not lost to a connection reset; past that the connection is closed.
function drainBody(ctx, limit = 64 << 20) {
	const { req } = ctx;
	if (req.complete) ctx.bodyConsumed = true;
	if (!ctx.hasBody || ctx.bodyConsumed || ctx.expectContinue) return Promise.resolve();
	if (Number(req.headers['content-length']) > limit) return Promise.resolve();
	return new Promise(resolve => {
		let seen = 0;
		const done = () => {
			clearTimeout(timer);
			req.off('data', onData);
			req.off('end', onEnd);
			req.off('error', done);
			req.off('close', done);
			resolve();
		};
		const onData = c => {
			seen += c.length;
			if (seen > limit) {
				req.pause();
				done();
			}
		};
		const onEnd = () => {
			ctx.bodyConsumed = true;
			done();
		};
		const timer = setTimeout(done, 10000);
		req.on('data', onData);
		req.on('end', onEnd);
		req.on('error', done);
		req.on('close', done);
		req.resume();
	});
}

const ERR = {
	accessDenied: (msg = 'Access Denied', extra) => new S3Err(403, 'AccessDenied', msg, extra),
	badRequest: (code, msg, extra) => new S3Err(400, code, msg, extra),
};

// ---------------------------------------------------------------------------------------------
// Request parsing helpers

function safeDecode(s) {
	try {
		return decodeURIComponent(s);
	} catch {
		throw ERR.badRequest('InvalidURI', "Couldn't parse the specified URI.");
	}
}

// The query as sent: [{rawKey, rawValue, hasEq, key, value}] in order.
function parseQuery(raw) {
	if (!raw) return [];
	return raw.split('&').filter(p => p !== '').map(p => {
		const i = p.indexOf('=');
		const rawKey = i < 0 ? p : p.slice(0, i);
		const rawValue = i < 0 ? '' : p.slice(i + 1);
		return { rawKey, rawValue, hasEq: i >= 0, key: safeDecode(rawKey), value: safeDecode(rawValue) };
	});
}

// {key: value | [values]} as @smithy/signature-v4 expects it.
function queryObject(params) {
	const q = {};
	for (const { key, value } of params) {
		if (Object.prototype.hasOwnProperty.call(q, key)) {
			q[key] = [].concat(q[key], value);
		} else {
			q[key] = value;
		}
	}
	return q;
}

function queryGet(params, name) {
	const p = params.find(x => x.key === name);
	return p ? p.value : undefined;
}

function queryHas(params, name) {
	return params.some(x => x.key === name);
}

// A header's values as SigV4 wants them: each value trimmed, repeated headers joined by ','.
function headerForSigning(req, name) {
	if (req.headersDistinct && req.headersDistinct[name]) {
		return req.headersDistinct[name].map(v => v.trim()).join(',');
	}
	const v = req.headers[name];
	if (v === undefined) return undefined;
	return Array.isArray(v) ? v.map(x => x.trim()).join(',') : v;
}

function parseAmzDate(s) {
	const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
	if (!m) return null;
	const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
	return Number.isNaN(d.getTime()) ? null : d;
}

const toAmzDate = d => d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

function sameHex(a, b) {
	if (typeof a !== 'string' || typeof b !== 'string' || a.length !== b.length) return false;
	return crypto.timingSafeEqual(Buffer.from(a.toLowerCase()), Buffer.from(b.toLowerCase()));
}

// ---------------------------------------------------------------------------------------------
// SigV4 verification

// Parses "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=abc".
function parseAuthorizationHeader(value) {
	if (/^AWS\s/.test(value)) {
		throw ERR.badRequest('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
	}
	const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(value);
	if (!m) throw ERR.badRequest('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: value });
	const fields = {};
	for (const part of m[1].split(',')) {
		const i = part.indexOf('=');
		if (i > 0) fields[part.slice(0, i).trim()] = part.slice(i + 1).trim();
	}
	if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) {
		throw ERR.badRequest('AuthorizationHeaderMalformed', 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.');
	}
	return { credential: fields.Credential, signedHeaders: fields.SignedHeaders, signature: fields.Signature };
}

function parseCredential(credential, malformed) {
	const parts = credential.split('/');
	if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]) || !parts[2]) {
		throw malformed(`The credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request", got "${credential}".`);
	}
	const [accessKey, date, region, service] = parts;
	if (service !== 's3') throw malformed(`The credential is malformed; incorrect service "${service}". This endpoint belongs to "s3".`);
	return { accessKey, date, region, service };
}

function checkAccessKey(accessKey) {
	if (!sameString(accessKey, cfg.accessKey)) {
		throw new S3Err(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKey });
	}
}

function sameString(a, b) {
	const x = Buffer.from(String(a));
	const y = Buffer.from(String(b));
	return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// Recomputes the signature with @smithy/signature-v4 over exactly the headers the client
// listed, the path as sent and the decoded, re-encoded and sorted query.
async function computeSignature(ctx, { longDate, region, service, signedHeaders, payloadHash, params }) {
	const headers = {};
	for (const name of signedHeaders) {
		const v = headerForSigning(ctx.req, name);
		headers[name] = v === undefined ? '' : v;
	}
	const canonicalHeaders = getCanonicalHeaders({ headers }, undefined, new Set(signedHeaders));
	const request = {
		method: ctx.req.method,
		protocol: 'http:',
		hostname: '127.0.0.1',
		path: ctx.rawPath,
		query: queryObject(params),
		headers,
	};
	const canonicalRequest = signer.createCanonicalRequest(request, canonicalHeaders, payloadHash);
	const shortDate = longDate.slice(0, 8);
	const scope = `${shortDate}/${region}/${service}/aws4_request`;
	const key = signer.getSigningKey(CREDENTIALS, region, shortDate, service);
	const signature = await signer.getSignature(longDate, scope, key, canonicalRequest);
	return { signature, canonicalRequest, scope };
}

async function mismatch(ctx, computed, longDate) {
	const stringToSign = await signer.createStringToSign(longDate, computed.scope, computed.canonicalRequest, ALGORITHM);
	return new S3Err(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
		AWSAccessKeyId: cfg.accessKey,
		StringToSign: stringToSign,
		CanonicalRequest: computed.canonicalRequest,
	});
}

const PAYLOAD_MODES = new Set([
	'UNSIGNED-PAYLOAD',
	'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
	'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
	'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);

// Returns the verified auth context: {kind, longDate, signingDate, region, service, signature,
// payloadHash}. Throws S3Err on failure.
async function authenticate(ctx) {
	const { req, params } = ctx;
	const hasHeader = req.headers.authorization !== undefined;
	const hasQueryV4 = queryHas(params, 'X-Amz-Algorithm') || queryHas(params, 'X-Amz-Signature');
	const hasQueryV2 = queryHas(params, 'Signature') && queryHas(params, 'AWSAccessKeyId');
	if (hasHeader && (hasQueryV4 || hasQueryV2)) {
		throw ERR.badRequest('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified', { ArgumentName: 'Authorization' });
	}
	if (hasQueryV2 && !hasQueryV4) {
		throw ERR.badRequest('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
	}
	if (!hasHeader && !hasQueryV4) throw ERR.accessDenied();
	return hasHeader ? authenticateHeader(ctx) : authenticateQuery(ctx);
}

async function authenticateHeader(ctx) {
	const { req, params } = ctx;
	const auth = parseAuthorizationHeader(String(req.headers.authorization));
	const malformed = msg => ERR.badRequest('AuthorizationHeaderMalformed', msg);
	const cred = parseCredential(auth.credential, malformed);
	checkAccessKey(cred.accessKey);

	let signingDate;
	let longDate;
	if (req.headers['x-amz-date'] !== undefined) {
		longDate = String(req.headers['x-amz-date']);
		signingDate = parseAmzDate(longDate);
	} else if (req.headers.date !== undefined) {
		signingDate = new Date(String(req.headers.date));
		if (Number.isNaN(signingDate.getTime())) signingDate = null;
		else longDate = toAmzDate(signingDate);
	}
	if (!signingDate) throw ERR.accessDenied('AWS authentication requires a valid Date or x-amz-date header');
	const now = Date.now();
	if (Math.abs(now - signingDate.getTime()) > cfg.maxSkewMs) {
		throw new S3Err(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
			RequestTime: longDate,
			ServerTime: new Date(now).toISOString(),
			MaxAllowedSkewMilliseconds: cfg.maxSkewMs,
		});
	}
	if (cred.date !== longDate.slice(0, 8)) {
		throw malformed(`Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${longDate.slice(0, 8)}".`);
	}

	const payloadHash = req.headers['x-amz-content-sha256'];
	if (payloadHash === undefined) {
		throw ERR.badRequest('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
	}
	if (/^STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD/.test(payloadHash)) {
		throw new S3Err(501, 'NotImplemented', 'SigV4a streaming payloads are not implemented by this test service');
	}
	if (!PAYLOAD_MODES.has(payloadHash) && !/^[0-9a-f]{64}$/.test(payloadHash)) {
		throw ERR.badRequest('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.', { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash });
	}

	const signedHeaders = auth.signedHeaders.split(';').map(h => h.trim().toLowerCase()).filter(Boolean);
	if (!signedHeaders.includes('host')) {
		throw ERR.accessDenied('There were headers present in the request which were not signed', { HeadersNotSigned: 'host' });
	}
	const unsigned = Object.keys(req.headers).filter(h => h.startsWith('x-amz-') && !signedHeaders.includes(h));
	if (unsigned.length) {
		throw ERR.accessDenied('There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') });
	}

	const computed = await computeSignature(ctx, {
		longDate, region: cred.region, service: cred.service, signedHeaders, payloadHash, params,
	});
	if (!sameHex(computed.signature, auth.signature)) throw await mismatch(ctx, computed, longDate);
	return {
		kind: 'header', longDate, signingDate, region: cred.region, service: cred.service,
		scope: computed.scope, signature: computed.signature, payloadHash,
	};
}

async function authenticateQuery(ctx) {
	const { req, params } = ctx;
	const qerr = msg => ERR.badRequest('AuthorizationQueryParametersError', msg);
	const algorithm = queryGet(params, 'X-Amz-Algorithm');
	const credential = queryGet(params, 'X-Amz-Credential');
	const longDate = queryGet(params, 'X-Amz-Date');
	const expires = queryGet(params, 'X-Amz-Expires');
	const signedHeadersRaw = queryGet(params, 'X-Amz-SignedHeaders');
	const signature = queryGet(params, 'X-Amz-Signature');
	if ([algorithm, credential, longDate, expires, signedHeadersRaw, signature].some(v => v === undefined)) {
		throw qerr('Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
	}
	if (algorithm !== ALGORITHM) throw qerr('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
	const cred = parseCredential(credential, qerr);
	checkAccessKey(cred.accessKey);
	const signingDate = parseAmzDate(longDate);
	if (!signingDate) throw qerr(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
	if (!/^\d+$/.test(expires)) throw qerr('X-Amz-Expires should be a number');
	const ttl = Number(expires);
	if (ttl > MAX_PRESIGNED_TTL) throw qerr('X-Amz-Expires must be less than a week (in seconds) that is 604800');
	if (cred.date !== longDate.slice(0, 8)) {
		throw qerr(`Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${longDate.slice(0, 8)}".`);
	}
	const now = Date.now();
	if (signingDate.getTime() - now > cfg.maxSkewMs) throw ERR.accessDenied('Request is not valid yet');
	if (now > signingDate.getTime() + ttl * 1000) {
		throw ERR.accessDenied('Request has expired', {
			'X-Amz-Expires': expires,
			Expires: new Date(signingDate.getTime() + ttl * 1000).toISOString(),
			ServerTime: new Date(now).toISOString(),
		});
	}
	const signedHeaders = signedHeadersRaw.split(';').map(h => h.trim().toLowerCase()).filter(Boolean);
	if (!signedHeaders.includes('host')) {
		throw ERR.accessDenied('There were headers present in the request which were not signed', { HeadersNotSigned: 'host' });
	}
	// A presigned URL signs no payload unless the client signed x-amz-content-sha256 itself.
	let payloadHash = 'UNSIGNED-PAYLOAD';
	if (signedHeaders.includes('x-amz-content-sha256') && req.headers['x-amz-content-sha256'] !== undefined) {
		payloadHash = String(req.headers['x-amz-content-sha256']);
		if (payloadHash !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(payloadHash)) {
			throw ERR.badRequest('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value for presigned requests.');
		}
	}
	const computed = await computeSignature(ctx, {
		longDate, region: cred.region, service: cred.service, signedHeaders, payloadHash, params,
	});
	if (!sameHex(computed.signature, signature)) throw await mismatch(ctx, computed, longDate);
	return {
		kind: 'presigned', longDate, signingDate, region: cred.region, service: cred.service,
		scope: computed.scope, signature: computed.signature, payloadHash,
	};
}

// ---------------------------------------------------------------------------------------------
// Checksums: CRC32 / CRC32C (for x-amz-checksum-*), table driven.

function crcTable(poly) {
	const t = new Int32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
		t[n] = c;
	}
	return t;
}

class Crc {
	constructor(poly) {
		this.table = crcTable(poly);
		this.crc = -1;
	}
	update(buf) {
		let c = this.crc;
		const t = this.table;
		for (let i = 0; i < buf.length; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
		this.crc = c;
		return this;
	}
	digest(encoding) {
		const out = Buffer.alloc(4);
		out.writeUInt32BE((this.crc ^ -1) >>> 0);
		return encoding ? out.toString(encoding) : out;
	}
}

const CHECKSUMS = {
	crc32: () => new Crc(0xedb88320),
	crc32c: () => new Crc(0x82f63b78),
	sha1: () => crypto.createHash('sha1'),
	sha256: () => crypto.createHash('sha256'),
};

// ---------------------------------------------------------------------------------------------
// aws-chunked decoding with chunk (and trailer) signature verification.
//
//   hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n
//   [trailer-name:value\r\n ... [x-amz-trailer-signature:sig\r\n]] \r\n

class ChunkDecoder {
	constructor({ signed, signedTrailer, auth }) {
		this.signed = signed;
		this.signedTrailer = signedTrailer;
		this.auth = auth;
		this.prevSignature = auth.signature;
		this.state = 'size';
		this.line = [];
		this.lineLen = 0;
		this.remaining = 0;
		this.chunkSignature = null;
		this.chunkHash = null;
		this.trailers = {};
		this.trailerCanonical = '';
		this.trailerSignature = null;
		this.decodedLength = 0;
	}

	malformed(msg) {
		return ERR.badRequest('IncompleteBody', msg || 'The request body is not valid aws-chunked encoding.');
	}

	async verifyChunk() {
		if (!this.signed) return;
		const { longDate, scope, signingDate, region, service } = this.auth;
		const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', longDate, scope, this.prevSignature, EMPTY_SHA256, this.chunkHash.digest('hex')].join('\n');
		const expected = await signer.signString(stringToSign, { signingDate, signingRegion: region, signingService: service });
		if (!this.chunkSignature || !sameHex(expected, this.chunkSignature)) {
			throw new S3Err(403, 'SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.', { StringToSign: stringToSign });
		}
		this.prevSignature = expected;
	}

	async verifyTrailer() {
		if (!this.signedTrailer) return;
		if (!this.trailerSignature) {
			throw new S3Err(403, 'SignatureDoesNotMatch', 'The trailer of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER request has no x-amz-trailer-signature.');
		}
		const { longDate, scope, signingDate, region, service } = this.auth;
		const hash = crypto.createHash('sha256').update(this.trailerCanonical).digest('hex');
		const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', longDate, scope, this.prevSignature, hash].join('\n');
		const expected = await signer.signString(stringToSign, { signingDate, signingRegion: region, signingService: service });
		if (!sameHex(expected, this.trailerSignature)) {
			throw new S3Err(403, 'SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.', { StringToSign: stringToSign });
		}
	}

	// Collects one CRLF-terminated line from buf starting at i; returns [line|null, next i].
	takeLine(buf, i) {
		const nl = buf.indexOf(0x0a, i);
		const end = nl < 0 ? buf.length : nl + 1;
		this.line.push(buf.subarray(i, end));
		this.lineLen += end - i;
		if (this.lineLen > 8192) throw this.malformed('aws-chunked line too long');
		if (nl < 0) return [null, end];
		const line = Buffer.concat(this.line).toString('latin1');
		this.line = [];
		this.lineLen = 0;
		if (!line.endsWith('\r\n')) throw this.malformed('aws-chunked lines must end in CRLF');
		return [line.slice(0, -2), end];
	}

	// Feeds raw bytes; calls (and awaits) emit(buffer) with decoded payload bytes.
	async push(buf, emit) {
		let i = 0;
		while (i < buf.length) {
			switch (this.state) {
			case 'size': {
				const [line, next] = this.takeLine(buf, i);
				i = next;
				if (line === null) break;
				const [sizeHex, ...exts] = line.split(';');
				if (!/^[0-9a-fA-F]{1,16}$/.test(sizeHex.trim())) throw this.malformed(`bad chunk size line "${line.slice(0, 80)}"`);
				this.remaining = parseInt(sizeHex.trim(), 16);
				this.chunkSignature = null;
				for (const ext of exts) {
					const [k, v] = ext.split('=');
					if (k.trim() === 'chunk-signature') this.chunkSignature = (v || '').trim();
				}
				this.chunkHash = crypto.createHash('sha256');
				if (this.remaining === 0) {
					await this.verifyChunk();
					this.state = 'trailer';
				} else {
					this.state = 'data';
				}
				break;
			}
			case 'data': {
				const n = Math.min(this.remaining, buf.length - i);
				const piece = buf.subarray(i, i + n);
				i += n;
				this.remaining -= n;
				this.decodedLength += n;
				this.chunkHash.update(piece);
				await emit(piece);
				if (this.remaining === 0) this.state = 'crlf';
				break;
			}
			case 'crlf': {
				const [line, next] = this.takeLine(buf, i);
				i = next;
				if (line === null) break;
				if (line !== '') throw this.malformed('chunk data is longer than its declared size');
				await this.verifyChunk();
				this.state = 'size';
				break;
			}
			case 'trailer': {
				const [line, next] = this.takeLine(buf, i);
				i = next;
				if (line === null) break;
				if (line === '') {
					await this.verifyTrailer();
					this.state = 'done';
					break;
				}
				const c = line.indexOf(':');
				if (c <= 0) throw this.malformed(`bad trailer line "${line.slice(0, 80)}"`);
				const name = line.slice(0, c).trim().toLowerCase();
				const value = line.slice(c + 1).trim();
				if (name === 'x-amz-trailer-signature') {
					this.trailerSignature = value;
				} else {
					this.trailers[name] = value;
					this.trailerCanonical += `${name}:${value}\n`;
				}
				break;
			}
			case 'done':
				// Bytes after the final CRLF: ignore whitespace, refuse anything else.
				if (buf.subarray(i).toString('latin1').trim() !== '') throw this.malformed('data after the final chunk');
				i = buf.length;
				break;
			}
		}
	}

	async finish() {
		// Tolerate a missing final CRLF after the last chunk (no trailer).
		if (this.state === 'trailer' && this.lineLen === 0) {
			await this.verifyTrailer();
			this.state = 'done';
		}
		if (this.state !== 'done') throw this.malformed('The request body ended before the final aws-chunked chunk.');
	}
}

// ---------------------------------------------------------------------------------------------
// Body spooling and verification

let spoolSeq = 0;

// Reads the whole request body into a spool file while hashing it; verifies the payload hash,
// Content-MD5, x-amz-checksum-* and aws-chunked signatures. Returns {file, size}; on a
// verification failure the file is removed and an S3Err is thrown (after the body was drained,
// so the client always gets the answer).
async function spoolBody(ctx, auth) {
	const { req } = ctx;
	const payloadHash = auth.payloadHash;
	const streaming = payloadHash.startsWith('STREAMING-');
	const file = path.join(SPOOL_DIR, `${process.pid}-${++spoolSeq}-${ctx.requestId}`);

	let decoder = null;
	let declaredDecoded = null;
	if (streaming) {
		const dcl = req.headers['x-amz-decoded-content-length'];
		if (dcl === undefined || !/^\d+$/.test(String(dcl))) {
			throw new S3Err(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header (x-amz-decoded-content-length for aws-chunked uploads).');
		}
		declaredDecoded = Number(dcl);
		decoder = new ChunkDecoder({
			signed: payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'),
			signedTrailer: payloadHash === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
			auth,
		});
	}

	let md5Expected = null;
	if (req.headers['content-md5'] !== undefined) {
		md5Expected = String(req.headers['content-md5']).trim();
		const raw = Buffer.from(md5Expected, 'base64');
		if (raw.length !== 16 || raw.toString('base64') !== md5Expected) {
			throw ERR.badRequest('InvalidDigest', 'The Content-MD5 you specified was invalid.');
		}
	}
	// Checksums announced as headers or as trailers.
	const checksumNames = new Set();
	for (const h of Object.keys(req.headers)) {
		const m = /^x-amz-checksum-(crc32|crc32c|sha1|sha256)$/.exec(h);
		if (m) checksumNames.add(m[1]);
	}
	for (const t of String(req.headers['x-amz-trailer'] || '').split(',')) {
		const m = /^x-amz-checksum-(crc32|crc32c|sha1|sha256)$/.exec(t.trim().toLowerCase());
		if (m) checksumNames.add(m[1]);
	}

	const rawHash = /^[0-9a-f]{64}$/.test(payloadHash) ? crypto.createHash('sha256') : null;
	const md5 = md5Expected ? crypto.createHash('md5') : null;
	const sums = {};
	for (const n of checksumNames) sums[n] = CHECKSUMS[n]();

	let failure = null;
	let size = 0;
	// At most ~1 MiB of a body is held in memory: writes wait for the spool file to drain.
	const ws = fs.createWriteStream(file, { mode: 0o600, highWaterMark: 1 << 20 });
	let wsError = null;
	ws.on('error', err => { wsError = err; });
	const closeSpool = () => new Promise(resolve => {
		if (ws.closed || ws.destroyed) return resolve();
		ws.end(() => resolve());
		ws.once('error', () => resolve());
	});
	const emit = async piece => {
		if (wsError) throw wsError;
		size += piece.length;
		if (md5) md5.update(piece);
		for (const s of Object.values(sums)) s.update(piece);
		if (!ws.write(piece)) {
			await new Promise((resolve, reject) => {
				const done = err => {
					ws.off('drain', done);
					ws.off('error', done);
					if (err) reject(err);
					else resolve();
				};
				ws.once('drain', done);
				ws.once('error', done);
			});
		}
	};
	if (ctx.expectContinue) ctx.res.writeContinue();
	try {
		for await (const buf of req) {
			if (failure) continue; // drain the rest so that the client gets the answer
			try {
				if (rawHash) rawHash.update(buf);
				if (decoder) await decoder.push(buf, emit);
				else await emit(buf);
			} catch (err) {
				failure = err;
			}
		}
		ctx.bodyConsumed = true;
		if (!failure && decoder) {
			try {
				await decoder.finish();
			} catch (err) {
				failure = err;
			}
		}
	} catch (err) {
		// The client went away mid-body.
		ws.destroy();
		await fsp.unlink(file).catch(() => {});
		err.clientGone = true;
		throw err;
	}
	await closeSpool();
	if (!failure && wsError) failure = wsError;

	if (!failure && rawHash) {
		const computed = rawHash.digest('hex');
		if (computed !== payloadHash) {
			failure = ERR.badRequest('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
				ClientComputedContentSHA256: payloadHash,
				S3ComputedContentSHA256: computed,
			});
		}
	}
	if (!failure && decoder && size !== declaredDecoded) {
		failure = ERR.badRequest('IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header', {
			NumberBytesExpected: declaredDecoded, NumberBytesProvided: size,
		});
	}
	if (!failure && md5) {
		const computed = md5.digest('base64');
		if (computed !== md5Expected) {
			failure = ERR.badRequest('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
				ExpectedDigest: md5Expected, CalculatedDigest: computed,
			});
		}
	}
	if (!failure) {
		for (const [name, sum] of Object.entries(sums)) {
			const header = `x-amz-checksum-${name}`;
			const expected = decoder && decoder.trailers[header] !== undefined ? decoder.trailers[header] : req.headers[header];
			if (expected === undefined) {
				failure = ERR.badRequest('InvalidRequest', `The request announced the trailer ${header} but did not send it.`);
				break;
			}
			const computed = sum.digest('base64');
			if (computed !== String(expected).trim()) {
				failure = ERR.badRequest('BadDigest', `The ${name.toUpperCase()} you specified did not match the calculated checksum.`, {
					ExpectedChecksum: String(expected).trim(), CalculatedChecksum: computed,
				});
				break;
			}
		}
	}
	if (failure) {
		await fsp.unlink(file).catch(() => {});
		throw failure;
	}
	return { file, size };
}

// ---------------------------------------------------------------------------------------------
// Forwarding to s3rver

let s3rverPort = 0;
const upstreamAgent = new http.Agent({ keepAlive: false });

function upstreamHeaders(req, bodyLength, streaming) {
	const out = {};
	const connectionTokens = String(req.headers.connection || '').toLowerCase().split(',').map(s => s.trim());
	for (const [name, value] of Object.entries(req.headers)) {
		if (HOP_BY_HOP.has(name) || connectionTokens.includes(name)) continue;
		if (name === 'authorization' || name === 'content-length') continue;
		if (streaming && (name === 'x-amz-decoded-content-length' || name === 'x-amz-trailer')) continue;
		out[name] = value;
	}
	if (streaming && out['content-encoding'] !== undefined) {
		const rest = String(out['content-encoding']).split(',').map(s => s.trim()).filter(s => s && s.toLowerCase() !== 'aws-chunked');
		if (rest.length) out['content-encoding'] = rest.join(', ');
		else delete out['content-encoding'];
	}
	if (bodyLength !== null) out['content-length'] = String(bodyLength);
	// The request is verified: s3rver sees it as signed by its built-in account (s3rver checks
	// only that a SigV4 request names a key it knows), so that what S3 allows only on
	// authenticated requests (response-* overrides, for one) works; the body is plain now.
	const now = toAmzDate(new Date());
	out.authorization = `${ALGORITHM} Credential=S3RVER/${now.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
	out['x-amz-date'] = now;
	out['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
	return out;
}

function upstreamPath(ctx) {
	const kept = ctx.params.filter(p => !AUTH_QUERY_PARAMS.has(p.key.toLowerCase()));
	if (!kept.length) return ctx.rawPath;
	return ctx.rawPath + '?' + kept.map(p => (p.hasEq ? `${p.rawKey}=${p.rawValue}` : p.rawKey)).join('&');
}

function forward(ctx, body, streaming) {
	const { req, res } = ctx;
	return new Promise(resolve => {
		const headers = upstreamHeaders(req, body ? body.size : (req.headers['content-length'] !== undefined ? 0 : null), streaming);
		const up = http.request({
			host: '127.0.0.1',
			port: s3rverPort,
			method: req.method,
			path: upstreamPath(ctx),
			headers,
			agent: upstreamAgent,
		}, upRes => {
			const h = {};
			for (const [name, value] of Object.entries(upRes.headers)) {
				if (!HOP_BY_HOP.has(name)) h[name] = value;
			}
			if (!res.headersSent) res.writeHead(upRes.statusCode, h);
			pipeline(upRes, res, () => resolve());
		});
		up.on('error', err => {
			log(`${ctx.requestId} upstream error: ${err.message}`);
			if (!res.headersSent) sendError(ctx, new S3Err(500, 'InternalError', 'We encountered an internal error. Please try again.'));
			else res.destroy();
			resolve();
		});
		res.on('close', () => {
			if (!res.writableFinished) up.destroy();
		});
		stats.forwarded++;
		if (body) {
			const rs = fs.createReadStream(body.file);
			rs.on('error', err => up.destroy(err));
			rs.pipe(up);
		} else {
			up.end();
		}
	});
}

// ---------------------------------------------------------------------------------------------
// Multipart operations s3rver 3.7 lacks, served from its store layout:
//   BUCKETS_DIR/<bucket>/._S3rver_uploads/<uploadId>/{key,metadata,<n>,<n>.md5}

function uploadsDir(bucket) {
	return path.join(BUCKETS_DIR, bucket, '._S3rver_uploads');
}

function splitBucketKey(rawPath) {
	const m = /^\/([^/]+)(?:\/(.*))?$/.exec(rawPath);
	if (!m) return { bucket: null, key: null };
	return { bucket: safeDecode(m[1]), key: m[2] === undefined || m[2] === '' ? null : safeDecode(m[2]) };
}

async function bucketExists(bucket) {
	if (!/^[a-z0-9][a-z0-9.-]{1,62}$/.test(bucket)) return false;
	try {
		return (await fsp.stat(path.join(BUCKETS_DIR, bucket))).isDirectory();
	} catch {
		return false;
	}
}

function noSuchUpload(uploadId) {
	return new S3Err(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}

async function loadUpload(bucket, key, uploadId) {
	if (!/^[0-9a-f]{32}$/.test(uploadId || '')) throw noSuchUpload(uploadId);
	const dir = path.join(uploadsDir(bucket), uploadId);
	let storedKey;
	try {
		storedKey = await fsp.readFile(path.join(dir, 'key'), 'utf8');
	} catch {
		throw noSuchUpload(uploadId);
	}
	if (key !== null && storedKey !== key) throw noSuchUpload(uploadId);
	return { dir, key: storedKey };
}

async function listParts(dir) {
	const parts = [];
	for (const name of await fsp.readdir(dir)) {
		if (!/^\d+$/.test(name)) continue;
		const st = await fsp.stat(path.join(dir, name));
		let etag = '';
		try {
			etag = (await fsp.readFile(path.join(dir, `${name}.md5`), 'utf8')).trim();
		} catch {
			continue; // still being written
		}
		parts.push({ number: Number(name), size: st.size, mtime: st.mtime, etag });
	}
	return parts.sort((a, b) => a.number - b.number);
}

const el = (name, v) => `<${name}>${xmlEscape(v)}</${name}>`;
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

// Returns true when the request was answered here.
async function multipartShim(ctx) {
	const { req, params } = ctx;
	const { bucket, key } = splitBucketKey(ctx.rawPath);
	if (!bucket) return false;
	const uploadId = queryGet(params, 'uploadId');
	const method = req.method;

	const isListUploads = method === 'GET' && key === null && queryHas(params, 'uploads');
	const isListParts = method === 'GET' && key !== null && uploadId !== undefined;
	const isAbort = method === 'DELETE' && key !== null && uploadId !== undefined;
	const isPartOrComplete = key !== null && uploadId !== undefined && (method === 'PUT' || method === 'POST');
	if (!isListUploads && !isListParts && !isAbort && !isPartOrComplete) return false;
	if (!(await bucketExists(bucket))) {
		throw new S3Err(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
	}

	if (isPartOrComplete) {
		await loadUpload(bucket, key, uploadId); // s3rver itself would accept any upload id
		return false;
	}
	if (isAbort) {
		const { dir } = await loadUpload(bucket, key, uploadId);
		await fsp.rm(dir, { recursive: true, force: true });
		ctx.res.writeHead(204, { 'x-amz-request-id': ctx.requestId });
		ctx.res.end();
		return true;
	}
	if (isListParts) {
		const { dir } = await loadUpload(bucket, key, uploadId);
		const maxParts = Math.min(Number(queryGet(params, 'max-parts') || 1000) || 1000, 1000);
		const marker = Number(queryGet(params, 'part-number-marker') || 0) || 0;
		const all = (await listParts(dir)).filter(p => p.number > marker);
		const page = all.slice(0, maxParts);
		const truncated = all.length > page.length;
		let xml = `<ListPartsResult ${NS}>${el('Bucket', bucket)}${el('Key', key)}${el('UploadId', uploadId)}`;
		xml += `${el('PartNumberMarker', marker)}${el('NextPartNumberMarker', page.length ? page[page.length - 1].number : marker)}`;
		xml += `${el('MaxParts', maxParts)}${el('IsTruncated', truncated)}`;
		for (const p of page) {
			xml += `<Part>${el('PartNumber', p.number)}${el('LastModified', p.mtime.toISOString())}${el('ETag', `"${p.etag}"`)}${el('Size', p.size)}</Part>`;
		}
		xml += `${el('StorageClass', 'STANDARD')}</ListPartsResult>`;
		sendXml(ctx, 200, xml);
		return true;
	}
	// ListMultipartUploads (prefix and max-uploads; no delimiter grouping).
	const prefix = queryGet(params, 'prefix') || '';
	const maxUploads = Math.min(Number(queryGet(params, 'max-uploads') || 1000) || 1000, 1000);
	const keyMarker = queryGet(params, 'key-marker') || '';
	const uploadIdMarker = queryGet(params, 'upload-id-marker') || '';
	let ids = [];
	try {
		ids = await fsp.readdir(uploadsDir(bucket));
	} catch {
		ids = [];
	}
	const uploads = [];
	for (const id of ids) {
		try {
			const dir = path.join(uploadsDir(bucket), id);
			const k = await fsp.readFile(path.join(dir, 'key'), 'utf8');
			const st = await fsp.stat(dir);
			if (k.startsWith(prefix)) uploads.push({ key: k, id, initiated: st.birthtime.getTime() ? st.birthtime : st.ctime });
		} catch {
			// removed meanwhile
		}
	}
	uploads.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated - b.initiated));
	const after = uploads.filter(u => !keyMarker || u.key > keyMarker || (u.key === keyMarker && uploadIdMarker && u.id > uploadIdMarker));
	const page = after.slice(0, maxUploads);
	const truncated = after.length > page.length;
	const last = page[page.length - 1];
	let xml = `<ListMultipartUploadsResult ${NS}>${el('Bucket', bucket)}${el('KeyMarker', keyMarker)}${el('UploadIdMarker', uploadIdMarker)}`;
	xml += `${el('NextKeyMarker', last ? last.key : '')}${el('NextUploadIdMarker', last ? last.id : '')}`;
	if (prefix) xml += el('Prefix', prefix);
	xml += `${el('MaxUploads', maxUploads)}${el('IsTruncated', truncated)}`;
	for (const u of page) {
		xml += `<Upload>${el('Key', u.key)}${el('UploadId', u.id)}${el('Initiated', u.initiated.toISOString())}${el('StorageClass', 'STANDARD')}</Upload>`;
	}
	xml += '</ListMultipartUploadsResult>';
	sendXml(ctx, 200, xml);
	return true;
}

// ---------------------------------------------------------------------------------------------
// Fault injection

let faults = [];
let faultSeq = 0;

const FAULT_CODES = {
	400: ['BadRequest', 'Bad Request'],
	403: ['AccessDenied', 'Access Denied'],
	404: ['NoSuchKey', 'The specified key does not exist.'],
	409: ['OperationAborted', 'A conflicting conditional operation is currently in progress against this resource. Please try again.'],
	500: ['InternalError', 'We encountered an internal error. Please try again.'],
	501: ['NotImplemented', 'A header you provided implies functionality that is not implemented.'],
	503: ['SlowDown', 'Please reduce your request rate.'],
	504: ['RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period.'],
};

function validateFault(f) {
	if (!f || typeof f !== 'object' || Array.isArray(f)) throw new Error('a fault is a JSON object');
	const out = { id: ++faultSeq, mode: f.mode };
	if (!['status', 'reset', 'delay'].includes(f.mode)) throw new Error('mode must be "status", "reset" or "delay"');
	const count = f.count === undefined ? 1 : f.count;
	if (!Number.isInteger(count) || (count < 1 && count !== -1)) throw new Error('count must be a positive integer (or -1: until cleared)');
	out.count = count;
	if (f.method !== undefined) {
		if (typeof f.method !== 'string' || !/^[A-Za-z]+$/.test(f.method)) throw new Error('method must be an HTTP method');
		out.method = f.method.toUpperCase();
	}
	if (f.path_prefix !== undefined) {
		if (typeof f.path_prefix !== 'string' || !f.path_prefix.startsWith('/')) throw new Error('path_prefix must be a string starting with /');
		out.path_prefix = f.path_prefix;
	}
	if (f.mode === 'status') {
		if (!Number.isInteger(f.status) || f.status < 300 || f.status > 599) throw new Error('status must be an integer 300..599');
		out.status = f.status;
		const [code, message] = FAULT_CODES[f.status] || ['InjectedFault', `Injected fault: HTTP ${f.status}`];
		out.code = typeof f.code === 'string' ? f.code : code;
		out.message = typeof f.message === 'string' ? f.message : message;
	}
	if (f.mode === 'delay') {
		if (!Number.isInteger(f.ms) || f.ms < 0 || f.ms > 600000) throw new Error('ms must be an integer 0..600000');
		out.ms = f.ms;
	}
	return out;
}

function takeFault(ctx) {
	const decodedPath = (() => {
		try {
			return decodeURIComponent(ctx.rawPath);
		} catch {
			return ctx.rawPath;
		}
	})();
	for (const f of faults) {
		if (f.method && f.method !== ctx.req.method) continue;
		if (f.path_prefix && !ctx.rawPath.startsWith(f.path_prefix) && !decodedPath.startsWith(f.path_prefix)) continue;
		if (f.count !== -1) f.count--;
		if (f.count === 0) faults = faults.filter(x => x !== f);
		stats.faults_injected++;
		bump(stats.faults_by_mode, f.mode);
		return f;
	}
	return null;
}

async function readJson(req, limit = 65536) {
	let size = 0;
	const chunks = [];
	for await (const c of req) {
		size += c.length;
		if (size > limit) throw new Error('body too large');
		chunks.push(c);
	}
	const text = Buffer.concat(chunks).toString('utf8');
	return text.trim() === '' ? {} : JSON.parse(text);
}

function sendJson(res, status, obj) {
	const body = obj === undefined ? '' : JSON.stringify(obj, null, 2) + '\n';
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
	res.end(body);
}

async function control(ctx) {
	const { req, res } = ctx;
	stats.control_requests++;
	ctx.auth = 'control';
	if (ctx.expectContinue) res.writeContinue();
	ctx.bodyConsumed = true;
	const route = `${req.method} ${ctx.rawPath.replace(/\/+$/, '')}`;
	try {
		switch (route) {
		case 'POST /__control/faults': {
			const body = await readJson(req);
			const added = (Array.isArray(body) ? body : [body]).map(validateFault);
			faults.push(...added);
			return sendJson(res, 201, { added, active: faults });
		}
		case 'GET /__control/faults':
			return sendJson(res, 200, { active: faults });
		case 'DELETE /__control/faults':
			faults = [];
			return sendJson(res, 200, { active: faults });
		case 'GET /__control/stats':
			return sendJson(res, 200, stats);
		case 'DELETE /__control/stats':
			stats = newStats();
			return sendJson(res, 200, stats);
		case 'GET /__control/health':
			return sendJson(res, 200, { ok: true, s3rver_port: s3rverPort, buckets: cfg.buckets });
		default:
			return sendJson(res, 404, { error: `no control endpoint ${route}` });
		}
	} catch (err) {
		return sendJson(res, 400, { error: err.message });
	}
}

// ---------------------------------------------------------------------------------------------
// The proxy

const sleep = ms => new Promise(r => setTimeout(r, ms));

function redactQuery(raw) {
	return raw.replace(/(X-Amz-Signature=)[0-9a-fA-F]+/g, '$1…').replace(/(X-Amz-Credential=)[^&]+/g, '$1…');
}

async function handle(req, res, expectContinue) {
	const started = Date.now();
	const q = req.url.indexOf('?');
	const ctx = {
		req,
		res,
		expectContinue,
		requestId: crypto.randomBytes(8).toString('hex').toUpperCase(),
		rawPath: q < 0 ? req.url : req.url.slice(0, q),
		rawQuery: q < 0 ? '' : req.url.slice(q + 1),
		params: [],
		auth: 'none',
		fault: null,
		errorCode: null,
		hasBody: (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined,
		bodyConsumed: false,
	};
	const isControl = ctx.rawPath === '/__control' || ctx.rawPath.startsWith('/__control/');
	let logged = false;
	const logLine = () => {
		if (logged) return;
		logged = true;
		const status = res.writableFinished ? res.statusCode : (ctx.fault && ctx.fault.mode === 'reset' ? 'reset' : `aborted(${res.headersSent ? res.statusCode : '-'})`);
		if (!isControl) bump(stats.by_status, String(status));
		const pathAndQuery = ctx.rawPath + (ctx.rawQuery ? '?' + redactQuery(ctx.rawQuery) : '');
		let line = `${ctx.requestId} ${req.method} ${pathAndQuery} ${status} auth=${ctx.auth}`;
		if (ctx.errorCode) line += ` error=${ctx.errorCode}`;
		if (ctx.fault) line += ` fault=${ctx.fault.mode}${ctx.fault.status ? ':' + ctx.fault.status : ''}`;
		log(`${line} ${Date.now() - started}ms`);
	};
	res.on('close', logLine);
	res.setHeader('server', 'platctl-test-s3');

	if (isControl) return control(ctx);

	stats.requests_total++;
	bump(stats.by_method, req.method);
	try {
		ctx.params = parseQuery(ctx.rawQuery);
		let auth;
		try {
			auth = await authenticate(ctx);
		} catch (err) {
			if (err instanceof S3Err) {
				stats.auth_failures++;
				bump(stats.auth_failures_by_code, err.code);
				ctx.auth = `fail:${err.code}`;
			}
			throw err;
		}
		stats.auth_ok++;
		ctx.auth = auth.kind === 'presigned' ? 'ok-presigned' : 'ok';

		const fault = takeFault(ctx);
		if (fault) {
			ctx.fault = fault;
			if (fault.mode === 'reset') {
				if (typeof req.socket.resetAndDestroy === 'function') req.socket.resetAndDestroy();
				else req.socket.destroy();
				return;
			}
			if (fault.mode === 'status') throw new S3Err(fault.status, fault.code, fault.message);
			if (fault.mode === 'delay') await sleep(fault.ms);
		}

		if (await multipartShim(ctx)) return;

		const streaming = auth.payloadHash.startsWith('STREAMING-');
		let body = null;
		if (ctx.hasBody || streaming) {
			body = await spoolBody(ctx, auth);
		} else if (/^[0-9a-f]{64}$/.test(auth.payloadHash) && auth.payloadHash !== EMPTY_SHA256) {
			throw ERR.badRequest('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
				ClientComputedContentSHA256: auth.payloadHash,
				S3ComputedContentSHA256: EMPTY_SHA256,
			});
		} else {
			ctx.bodyConsumed = true;
		}
		try {
			await forward(ctx, body, streaming);
		} finally {
			if (body) await fsp.unlink(body.file).catch(() => {});
		}
	} catch (err) {
		if (err && err.clientGone) {
			ctx.errorCode = 'ClientGone';
			res.destroy();
			return;
		}
		if (err instanceof S3Err) {
			await drainBody(ctx);
			if (['XAmzContentSHA256Mismatch', 'BadDigest', 'InvalidDigest', 'IncompleteBody', 'MissingContentLength'].includes(err.code) ||
				(err.code === 'SignatureDoesNotMatch' && ctx.auth.startsWith('ok'))) {
				stats.payload_failures++;
				ctx.auth = `${ctx.auth}+payload-fail`;
			}
			sendError(ctx, err);
			return;
		}
		log(`${ctx.requestId} internal error: ${err && err.stack ? err.stack : err}`);
		await drainBody(ctx);
		sendError(ctx, new S3Err(500, 'InternalError', 'We encountered an internal error. Please try again.'));
	}
}

// ---------------------------------------------------------------------------------------------
// Start-up

async function main() {
	await fsp.mkdir(BUCKETS_DIR, { recursive: true });
	await fsp.rm(SPOOL_DIR, { recursive: true, force: true });
	await fsp.mkdir(SPOOL_DIR, { recursive: true });

	const s3rver = new S3rver({
		address: '127.0.0.1',
		port: 0,
		directory: BUCKETS_DIR,
		silent: true,
		vhostBuckets: false,
		configureBuckets: cfg.buckets.map(name => ({ name })),
	});
	const addr = await s3rver.run();
	s3rverPort = addr.port;

	const server = http.createServer();
	server.requestTimeout = 0; // uploads of 1 GiB must not be cut off
	server.headersTimeout = 60000;
	server.keepAliveTimeout = 30000;
	const serve = expectContinue => (req, res) => {
		handle(req, res, expectContinue).catch(err => {
			log(`internal error: ${err && err.stack ? err.stack : err}`);
			res.destroy();
		});
	};
	server.on('request', serve(false));
	server.on('checkContinue', serve(true));
	server.on('clientError', (err, socket) => {
		if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
		else socket.destroy();
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(cfg.port, '127.0.0.1', resolve);
	});
	const port = server.address().port;
	if (cfg.portFile) {
		const tmp = `${cfg.portFile}.tmp${process.pid}`;
		await fsp.writeFile(tmp, `${port}\n`);
		await fsp.rename(tmp, cfg.portFile);
	}
	log(`listening on 127.0.0.1:${port} (node ${process.version}, s3rver on 127.0.0.1:${s3rverPort}, data ${cfg.dataDir}, buckets ${cfg.buckets.join(',')})`);
	process.stdout.write(`PORT=${port}\n`);

	const shutdown = sig => {
		log(`${sig}: shutting down`);
		server.close();
		process.exit(0);
	};
	process.on('SIGTERM', () => shutdown('SIGTERM'));
	process.on('SIGINT', () => shutdown('SIGINT'));
}

process.stdout.on('error', () => {}); // stdout may be closed by the caller
// A test service that dies takes every later test with it: log the unexpected and go on.
process.on('unhandledRejection', err => log(`unhandled rejection: ${err && err.stack ? err.stack : err}`));
main().catch(err => {
	process.stderr.write(`s3 test service: ${err && err.stack ? err.stack : err}\n`);
	process.exit(1);
});
