/* JWS compact parsing and JWT claim checks (see jws.h). cjose parses JWS too, but it takes
 * the algorithm from the header and knows no EdDSA: the checks that decide what a token may
 * be are done here, once, before any key is used. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "auth/jws.h"
#include "mem/mem.h"

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t plat_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long plat_b64url_decode(const char *in, size_t len, unsigned char *out)
{
	if (len % 4 == 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero: otherwise two strings decode to the same bytes. */
	if (acc != 0)
		return -1;
	return (long)o;
}

static cJSON *decode_json_object(const char *s, size_t len)
{
	unsigned char *raw = plat_xmalloc(len * 3 / 4 + 2);
	long n = plat_b64url_decode(s, len, raw);
	cJSON *j = NULL;
	if (n > 0) {
		const char *end = NULL;
		j = cJSON_ParseWithLengthOpts((const char *)raw, (size_t)n, &end, 0);
		if (j && (!cJSON_IsObject(j) || end != (const char *)raw + n)) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	free(raw);
	return j;
}

static const char *string_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

void jws_parts_free(struct jws_parts *p)
{
	cJSON_Delete(p->header);
	cJSON_Delete(p->claims);
	free(p->sig);
	memset(p, 0, sizeof(*p));
}

int jws_parse(const char *token, size_t max_len, struct jws_parts *p, struct plat_auth_result *res,
	      struct plat_error *err)
{
	memset(p, 0, sizeof(*p));
	if (!token)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_MALFORMED);
	/* Bounded before anything else: strnlen never reads past max_len + 1 bytes. */
	size_t len = strnlen(token, max_len + 1);
	if (len > max_len)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_TOO_LONG);
	const char *d1 = memchr(token, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	/* An empty signature is refused below, after alg: "none" tokens have one. */
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) || d1 == token || d2 == d1 + 1)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_MALFORMED);
	p->header = decode_json_object(token, (size_t)(d1 - token));
	if (!p->header)
		goto malformed;
	p->alg = string_member(p->header, "alg");
	p->kid = string_member(p->header, "kid");
	p->typ = string_member(p->header, "typ");
	const cJSON *kid_item = cJSON_GetObjectItemCaseSensitive(p->header, "kid");
	const cJSON *typ_item = cJSON_GetObjectItemCaseSensitive(p->header, "typ");
	if (!p->alg || (kid_item && !p->kid) || (typ_item && !p->typ))
		goto malformed;
	if (!strcmp(p->alg, "none") || !strcasecmp(p->alg, "none")) {
		jws_parts_free(p);
		return plat_auth_refuse(err, res, PLAT_AUTH_R_ALG_NONE);
	}
	if (!strncasecmp(p->alg, "HS", 2)) {
		jws_parts_free(p);
		return plat_auth_refuse(err, res, PLAT_AUTH_R_ALG_HMAC);
	}
	if (cJSON_GetObjectItemCaseSensitive(p->header, "crit"))
		goto malformed;
	p->claims = decode_json_object(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!p->claims)
		goto malformed;
	size_t slen = len - (size_t)(d2 + 1 - token);
	p->sig = plat_xmalloc(slen * 3 / 4 + 2);
	long n = plat_b64url_decode(d2 + 1, slen, p->sig);
	if (n <= 0)
		goto malformed;
	p->sig_len = (size_t)n;
	p->signing_input = token;
	p->signing_len = (size_t)(d2 - token);
	return 0;
malformed:
	jws_parts_free(p);
	return plat_auth_refuse(err, res, PLAT_AUTH_R_MALFORMED);
}

/* A NumericDate: a finite number within a sane range (no overflow when leeway is added). */
static int numeric_date(const cJSON *claims, const char *name, bool required, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
	if (!v)
		return required ? -1 : 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1e13)
		return -1;
	*out = (long long)v->valuedouble;
	return 1;
}

static bool audience_matches(const cJSON *aud, const char *want)
{
	if (cJSON_IsString(aud))
		return aud->valuestring && !strcmp(aud->valuestring, want);
	if (!cJSON_IsArray(aud))
		return false;
	const cJSON *e;
	cJSON_ArrayForEach(e, aud)
	{
		if (cJSON_IsString(e) && e->valuestring && !strcmp(e->valuestring, want))
			return true;
	}
	return false;
}

int jwt_check_claims(const cJSON *claims, const struct jwt_expect *x, struct plat_auth_result *res,
		     struct plat_error *err)
{
	long long exp = 0, nbf = 0, iat = 0;
	int has_nbf, has_iat;
	if (numeric_date(claims, "exp", true, &exp) < 0 || (has_nbf = numeric_date(claims, "nbf", false, &nbf)) < 0 ||
	    (has_iat = numeric_date(claims, "iat", false, &iat)) < 0)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_CLAIMS);
	if (x->now >= exp + x->leeway_s)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_EXPIRED);
	if ((has_nbf && nbf > x->now + x->leeway_s) || (has_iat && iat > x->now + x->leeway_s))
		return plat_auth_refuse(err, res, PLAT_AUTH_R_NOT_YET_VALID);
	const char *iss = string_member(claims, "iss");
	if (!x->issuer || !iss || strcmp(iss, x->issuer))
		return plat_auth_refuse(err, res, PLAT_AUTH_R_ISSUER);
	if (!x->audience || !audience_matches(cJSON_GetObjectItemCaseSensitive(claims, "aud"), x->audience))
		return plat_auth_refuse(err, res, PLAT_AUTH_R_AUDIENCE);
	const char *sub = string_member(claims, "sub");
	const char *jti = string_member(claims, "jti");
	if (!sub || !sub[0] || strlen(sub) >= sizeof(res->subject) || (jti && strlen(jti) >= sizeof(res->token_id)))
		return plat_auth_refuse(err, res, PLAT_AUTH_R_CLAIMS);
	snprintf(res->subject, sizeof(res->subject), "%s", sub);
	snprintf(res->token_id, sizeof(res->token_id), "%s", jti ? jti : "");
	res->expires_at = exp;
	return 0;
}

int jws_ed25519_verify(void *evp_pkey, const char *data, size_t len, const unsigned char *sig, size_t sig_len)
{
	if (sig_len != 64)
		return 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, evp_pkey) == 1 &&
		 EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}
