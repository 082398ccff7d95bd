/* libFuzzer target: any bytes as an S3 XML reply (errors, listings, upload ids). Replies
 * come from servers we do not control; parsing must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/s3_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *arg, const char *key, long long size, const char *etag, const char *lm)
{
	(void)arg;
	(void)key;
	(void)size;
	(void)etag;
	(void)lm;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	free(s3_xml_text((const char *)data, size, "Code"));
	free(s3_xml_text((const char *)data, size, "UploadId"));
	char *token = NULL;
	bool truncated;
	s3_xml_list((const char *)data, size, ignore, NULL, &token, &truncated);
	free(token);
	return 0;
}
