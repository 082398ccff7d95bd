// Configuration of the S3 test service (DATA_DIR argument and S3_TEST_* environment, see
// server.js), the request log, and the counters served by GET /__control/stats.
'use strict';

const fs = require('fs');
const path = require('path');

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
// One object for the life of the process (other modules hold it); a reset refills it.
const stats = newStats();
function resetStats() {
	for (const key of Object.keys(stats)) delete stats[key];
	return Object.assign(stats, newStats());
}
const bump = (obj, key) => { obj[key] = (obj[key] || 0) + 1; };

module.exports = { cfg, BUCKETS_DIR, SPOOL_DIR, log, stats, resetStats, bump };
