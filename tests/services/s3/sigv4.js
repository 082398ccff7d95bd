// AWS Signature Version 4 verification of a request (Authorization header or presigned query),
// recomputing the signature with SignatureV4 from @smithy/signature-v4. Its signer is also
// used by body.js for aws-chunked chunk and trailer signatures.
'use strict';

const crypto = require('crypto');
const { SignatureV4, getCanonicalHeaders } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');
const { cfg } = require('./config');
const { S3Err, ERR, queryGet, queryHas } = require('./s3http');

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_PRESIGNED_TTL = 7 * 24 * 3600;

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
// Signing helpers

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

module.exports = { authenticate, signer, sameHex, toAmzDate, EMPTY_SHA256, ALGORITHM };
