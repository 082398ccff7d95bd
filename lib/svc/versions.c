/* The libraries this binary runs with, as `platctl version` and the server's /version
 * report them: each library's own idea of its version, read at run time. */
#include "svc/svc.h"

#include <stdio.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <openssl/crypto.h>
#include <yaml.h>

void plat_library_versions(cJSON *libs)
{
	char pq[32];
	int v = PQlibVersion();
	snprintf(pq, sizeof(pq), "%d.%d", v / 10000, v % 10000);
	cJSON_AddStringToObject(libs, "libyaml", yaml_get_version_string());
	cJSON_AddStringToObject(libs, "cjson", cJSON_Version());
	cJSON_AddStringToObject(libs, "openssl", OpenSSL_version(OPENSSL_VERSION_STRING));
	cJSON_AddStringToObject(libs, "libpq", pq);
	cJSON_AddStringToObject(libs, "libcurl", curl_version_info(CURLVERSION_NOW)->version);
	cJSON_AddStringToObject(libs, "librdkafka", rd_kafka_version_str());
}
