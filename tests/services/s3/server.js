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
// aws-chunked bodies decoded. Two s3rver bugs are patched in-process (see s3rver-patches.js).
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
//
// The code is split into modules beside this file:
//   s3rver-patches.js  s3rver, with two of its bugs patched in-process
//   config.js          configuration, the request log, the counters
//   s3http.js          S3 errors and responses, query parsing
//   sigv4.js           SigV4 verification (header and presigned)
//   body.js            body spooling, payload checksums, aws-chunked decoding
//   upstream.js        forwarding verified requests to s3rver
//   multipart.js       multipart operations s3rver 3.7 lacks
//   faults.js          fault injection and the control API
//   proxy.js           the request handler tying them together
//   server.js          start-up (this file)
'use strict';

// First: it patches crypto before s3rver is loaded.
const { S3rver } = require('./s3rver-patches');

const fsp = require('fs').promises;
const http = require('http');
const { cfg, BUCKETS_DIR, SPOOL_DIR, log } = require('./config');
const { setS3rverPort } = require('./upstream');
const { handle } = require('./proxy');

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
	const s3rverPort = addr.port;
	setS3rverPort(s3rverPort);

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
