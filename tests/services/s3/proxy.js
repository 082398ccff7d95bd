// The proxy's request handler: control API or S3 request; an S3 request is authenticated,
// may get an injected fault, is answered by the multipart gap fillers or has its body
// spooled and verified and is forwarded to s3rver; one log line per request.
'use strict';

const crypto = require('crypto');
const fsp = require('fs').promises;
const { log, stats, bump } = require('./config');
const { S3Err, ERR, sendError, drainBody, parseQuery } = require('./s3http');
const { authenticate, EMPTY_SHA256 } = require('./sigv4');
const { spoolBody } = require('./body');
const { forward } = require('./upstream');
const { multipartShim } = require('./multipart');
const { takeFault, control } = require('./faults');

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

module.exports = { handle };
