// Request bodies: spooled to a file under DATA_DIR/spool while the payload is verified
// (x-amz-content-sha256, Content-MD5, x-amz-checksum-* CRC32/CRC32C/SHA1/SHA256), with
// aws-chunked bodies decoded and their chunk and trailer signatures checked.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const fsp = fs.promises;
const path = require('path');
const { SPOOL_DIR } = require('./config');
const { S3Err, ERR } = require('./s3http');
const { signer, sameHex, EMPTY_SHA256 } = require('./sigv4');

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

module.exports = { spoolBody };
