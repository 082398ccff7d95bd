// Fault injection (status, reset, delay) and the unauthenticated control API under
// /__control/ (faults, stats, health); see server.js for the API.
'use strict';

const { cfg, stats, resetStats, bump } = require('./config');
const { getS3rverPort } = require('./upstream');

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
			return sendJson(res, 200, resetStats());
		case 'GET /__control/health':
			return sendJson(res, 200, { ok: true, s3rver_port: getS3rverPort(), buckets: cfg.buckets });
		default:
			return sendJson(res, 404, { error: `no control endpoint ${route}` });
		}
	} catch (err) {
		return sendJson(res, 400, { error: err.message });
	}
}

module.exports = { takeFault, control };
