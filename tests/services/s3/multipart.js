// Multipart operations s3rver 3.7 lacks or gets wrong (ListParts, ListMultipartUploads,
// AbortMultipartUpload, and refusing unknown upload ids), answered from s3rver's store.
'use strict';

const fsp = require('fs').promises;
const path = require('path');
const { BUCKETS_DIR } = require('./config');
const { S3Err, xmlEscape, sendXml, safeDecode, queryGet, queryHas } = require('./s3http');

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

module.exports = { multipartShim };
