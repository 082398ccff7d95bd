// S3-style errors and responses (XML error documents, early answers that drain the body) and
// the request parsing the other modules share (the query as sent, percent-decoding).
'use strict';

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

function queryGet(params, name) {
	const p = params.find(x => x.key === name);
	return p ? p.value : undefined;
}

function queryHas(params, name) {
	return params.some(x => x.key === name);
}

module.exports = {
	S3Err, ERR, xmlEscape, sendError, sendXml, drainBody,
	safeDecode, parseQuery, queryGet, queryHas,
};
