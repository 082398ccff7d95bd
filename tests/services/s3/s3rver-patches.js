// Loads s3rver 3.7 with two of its bugs patched in-process (see each patch below). server.js
// requires this before anything else, so the crypto patch is in place before s3rver loads.
'use strict';

const crypto = require('crypto');

// s3rver 3.7 makes ListObjectsV2 continuation tokens with single DES ('des'), which OpenSSL 3
// (Node >= 17) has only in its legacy provider, so every truncated listing failed with a 500.
// Triple DES with three equal keys is the same cipher, and it is in the default provider.
for (const fn of ['createCipheriv', 'createDecipheriv']) {
	const orig = crypto[fn];
	crypto[fn] = function (algorithm, key, iv, options) {
		if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'des' && key && key.length === 8) {
			return orig.call(this, 'des-ede3-cbc', Buffer.concat([key, key, key]), iv, options);
		}
		return orig.call(this, algorithm, key, iv, options);
	};
}

const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

// s3rver removes a deleted object's empty parent directories without expecting a concurrent
// delete (DeleteObjects deletes its keys in parallel) to get there first: one of them then
// failed with ENOENT, a 500 for a delete that had worked. The object's files are gone by then.
const deleteObject = FilesystemStore.prototype.deleteObject;
FilesystemStore.prototype.deleteObject = async function (bucket, key) {
	try {
		return await deleteObject.call(this, bucket, key);
	} catch (err) {
		if (err && (err.code === 'ENOENT' || err.code === 'ENOTEMPTY')) return undefined;
		throw err;
	}
};

module.exports = { S3rver };
