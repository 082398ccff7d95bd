#!/usr/bin/env node
// A small SigV4 client for testing the S3 test service with requests that awscli will not
// make: a wrong payload hash, aws-chunked uploads (signed, or unsigned with a trailer),
// tampered chunk signatures, skewed clocks.
//
//   node request.js [options] METHOD URL [BODY_FILE]
//
// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, region AWS_DEFAULT_REGION (us-east-1).
// Options:
//   --secret S             sign with this secret instead
//   --payload-hash H       send and sign this x-amz-content-sha256 (default: the body's sha256)
//   --chunked N            send the body aws-chunked in N-byte chunks
//                          (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
//   --signed-trailer       with --chunked: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, crc32 trailer
//   --unsigned-trailer     with --chunked: STREAMING-UNSIGNED-PAYLOAD-TRAILER, crc32 trailer
//   --tamper-chunk K       with --chunked: corrupt the signature of chunk K (1-based)
//   --bad-trailer          with a trailer: send a wrong crc32
//   --decoded-length N     with --chunked: announce this x-amz-decoded-content-length
//   --date-offset SECONDS  sign with a clock that is off by this much
//   -H 'Name: value'       an extra header (signed)
//   -o FILE                write the response body to FILE instead of stdout
//   --presign SECONDS      print a presigned URL for METHOD URL (made by @smithy/signature-v4's
//                          presign; with --date-offset it can be already expired) and exit
// Prints "HTTP <status>" and then the response body on stdout.
//
// The header signature is made by @smithy/signature-v4; the chunk and trailer signatures are
// computed here with plain HMACs, so they check the service's own chunk verification.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

function usage(msg) {
	if (msg) process.stderr.write(`request.js: ${msg}\n`);
	process.stderr.write('usage: request.js [options] METHOD URL [BODY_FILE]\n');
	process.exit(2);
}

const opts = { headers: {}, dateOffset: 0 };
const args = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
	switch (a) {
	case '--secret': opts.secret = next(); break;
	case '--payload-hash': opts.payloadHash = next(); break;
	case '--chunked': opts.chunked = Number(next()); break;
	case '--signed-trailer': opts.trailer = 'signed'; break;
	case '--unsigned-trailer': opts.trailer = 'unsigned'; break;
	case '--tamper-chunk': opts.tamperChunk = Number(next()); break;
	case '--bad-trailer': opts.badTrailer = true; break;
	case '--decoded-length': opts.decodedLength = Number(next()); break;
	case '--date-offset': opts.dateOffset = Number(next()); break;
	case '-o': opts.output = next(); break;
	case '--presign': opts.presign = Number(next()); break;
	case '-H': {
		const h = next();
		const c = h.indexOf(':');
		if (c <= 0) usage(`bad header ${h}`);
		opts.headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
		break;
	}
	default:
		if (a.startsWith('-') && a !== '-') usage(`unknown option ${a}`);
		args.push(a);
	}
}
if (args.length < 2 || args.length > 3) usage();
const [method, rawUrl, bodyFile] = args;

const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
const secretAccessKey = opts.secret || process.env.AWS_SECRET_ACCESS_KEY;
const region = process.env.AWS_DEFAULT_REGION || 'us-east-1';
if (!accessKeyId || !secretAccessKey) usage('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set');

const sha256hex = b => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

function crc32(buf) {
	let c = -1;
	for (let i = 0; i < buf.length; i++) {
		c ^= buf[i];
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	}
	const out = Buffer.alloc(4);
	out.writeUInt32BE((c ^ -1) >>> 0);
	return out.toString('base64');
}

async function main() {
	const url = new URL(rawUrl);
	const body = bodyFile ? fs.readFileSync(bodyFile) : null;
	const query = {};
	for (const [k, v] of url.searchParams) query[k] = k in query ? [].concat(query[k], v) : v;

	const headers = { host: url.host, ...opts.headers };
	let payloadHash;
	let streamingMode = null;
	if (opts.chunked) {
		if (!body) usage('--chunked needs a BODY_FILE');
		streamingMode = opts.trailer === 'signed' ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
			: opts.trailer === 'unsigned' ? 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
				: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
		payloadHash = streamingMode;
		headers['content-encoding'] = 'aws-chunked';
		headers['x-amz-decoded-content-length'] = String(opts.decodedLength !== undefined ? opts.decodedLength : body.length);
		if (opts.trailer) headers['x-amz-trailer'] = 'x-amz-checksum-crc32';
	} else {
		payloadHash = opts.payloadHash || sha256hex(body || Buffer.alloc(0));
	}
	headers['x-amz-content-sha256'] = payloadHash;

	const signingDate = new Date(Date.now() + opts.dateOffset * 1000);
	const signer = new SignatureV4({
		credentials: { accessKeyId, secretAccessKey },
		region,
		service: 's3',
		sha256: Hash.bind(null, 'sha256'),
		uriEscapePath: false,
		applyChecksum: false,
	});

	if (opts.presign !== undefined) {
		// As @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD, and that header
		// is neither signed nor moved into the query.
		const unsigned = new Set(['x-amz-content-sha256']);
		const presigned = await signer.presign({
			method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query,
			headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
		}, { signingDate, expiresIn: opts.presign, unsignableHeaders: unsigned, unhoistableHeaders: unsigned });
		const qs = Object.entries(presigned.query).flatMap(([k, v]) => [].concat(v).map(x => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)).join('&');
		process.stdout.write(`${url.origin}${url.pathname}?${qs}\n`);
		return;
	}

	let wire = body;
	if (streamingMode) {
		// content-length of the encoded body must be known (and signed) before signing: build
		// the chunks with placeholder signatures of the final length, then fill them in.
		const sizes = [];
		for (let off = 0; off < body.length; off += opts.chunked) sizes.push(Math.min(opts.chunked, body.length - off));
		sizes.push(0);
		const signedChunks = streamingMode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
		const sigExt = signedChunks ? ';chunk-signature=' + '0'.repeat(64) : '';
		let encodedLength = 0;
		for (const n of sizes) encodedLength += n.toString(16).length + sigExt.length + 2 + n + (n ? 2 : 0);
		const trailerValue = opts.trailer ? (opts.badTrailer ? 'AAAAAA==' : crc32(body)) : null;
		const trailerCanonical = opts.trailer ? `x-amz-checksum-crc32:${trailerValue}\n` : '';
		encodedLength += trailerCanonical.length + (opts.trailer ? 1 : 0); // \n -> \r\n
		if (opts.trailer === 'signed') encodedLength += 'x-amz-trailer-signature:'.length + 64 + 2;
		encodedLength += 2; // final CRLF
		headers['content-length'] = String(encodedLength);

		const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers }, { signingDate });
		Object.assign(headers, signed.headers);
		const seed = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
		const longDate = signed.headers['x-amz-date'];
		const scope = `${longDate.slice(0, 8)}/${region}/s3/aws4_request`;
		let key = `AWS4${secretAccessKey}`;
		for (const part of [longDate.slice(0, 8), region, 's3', 'aws4_request']) key = hmac(key, part);

		const parts = [];
		let prev = seed;
		let off = 0;
		sizes.forEach((n, i) => {
			const data = body.subarray(off, off + n);
			off += n;
			if (signedChunks) {
				const sts = ['AWS4-HMAC-SHA256-PAYLOAD', longDate, scope, prev, sha256hex(''), sha256hex(data)].join('\n');
				let sig = hmac(key, sts).toString('hex');
				prev = sig;
				if (opts.tamperChunk === i + 1) sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
				parts.push(Buffer.from(`${n.toString(16)};chunk-signature=${sig}\r\n`));
			} else {
				parts.push(Buffer.from(`${n.toString(16)}\r\n`));
			}
			if (n) parts.push(data, Buffer.from('\r\n'));
		});
		if (opts.trailer) {
			parts.push(Buffer.from(trailerCanonical.replace(/\n/g, '\r\n')));
			if (opts.trailer === 'signed') {
				const sts = ['AWS4-HMAC-SHA256-TRAILER', longDate, scope, prev, sha256hex(trailerCanonical)].join('\n');
				parts.push(Buffer.from(`x-amz-trailer-signature:${hmac(key, sts).toString('hex')}\r\n`));
			}
		}
		parts.push(Buffer.from('\r\n'));
		wire = Buffer.concat(parts);
		if (wire.length !== encodedLength) throw new Error(`internal: encoded ${wire.length} != ${encodedLength}`);
	} else {
		if (body) headers['content-length'] = String(body.length);
		const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers }, { signingDate });
		Object.assign(headers, signed.headers);
	}

	const res = await new Promise((resolve, reject) => {
		const req = http.request({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers }, resolve);
		req.on('error', reject);
		req.end(wire || undefined);
	});
	if (opts.output) {
		const out = fs.createWriteStream(opts.output);
		for await (const c of res) {
			if (!out.write(c)) await new Promise(r => out.once('drain', r));
		}
		await new Promise((resolve, reject) => out.end(err => (err ? reject(err) : resolve())));
		process.stdout.write(`HTTP ${res.statusCode}\n`);
		return;
	}
	const chunks = [];
	for await (const c of res) chunks.push(c);
	process.stdout.write(`HTTP ${res.statusCode}\n${Buffer.concat(chunks).toString('utf8')}\n`);
}

main().catch(err => {
	process.stderr.write(`request.js: ${err && err.message ? err.message : err}\n`);
	process.exit(1);
});
