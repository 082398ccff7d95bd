// Forwarding of verified requests to s3rver on its internal loopback port: hop-by-hop and
// auth headers and query parameters stripped, the request marked as signed by s3rver's
// built-in account, the spooled (decoded) body sent with its real length.
'use strict';

const fs = require('fs');
const http = require('http');
const { pipeline } = require('stream');
const { log, stats } = require('./config');
const { S3Err, sendError } = require('./s3http');
const { toAmzDate, ALGORITHM } = require('./sigv4');

const AUTH_QUERY_PARAMS = new Set([
	'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires',
	'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token',
]);
// Hop-by-hop headers: never forwarded, either way.
const HOP_BY_HOP = new Set([
	'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
	'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
]);

// ---------------------------------------------------------------------------------------------
// Forwarding to s3rver

let s3rverPort = 0;
const upstreamAgent = new http.Agent({ keepAlive: false });
const setS3rverPort = port => { s3rverPort = port; };
const getS3rverPort = () => s3rverPort;

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

module.exports = { forward, setS3rverPort, getS3rverPort };
