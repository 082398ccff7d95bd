/* Local access tokens (see localjwt.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "auth/jws.h"
#include "auth/localjwt.h"
#include "hash/hash.h"
#include "io/io.h"
#include "mem/mem.h"

struct ring_key {
	char kid[PLAT_LOCALJWT_KID_LEN + 1];
	char *name; /* file name without directory: the order of signing preference */
	EVP_PKEY *pkey;
};

struct plat_auth_keyring {
	struct ring_key *keys;
	size_t n;
};

static int kid_of(EVP_PKEY *pkey, char kid[PLAT_LOCALJWT_KID_LEN + 1])
{
	unsigned char pub[32], md[32];
	size_t len = sizeof(pub);
	unsigned int mdlen = 0;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != 32 ||
	    EVP_Digest(pub, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	plat_b64url_encode(md, 8, kid);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* An encrypted key is refused rather than asked for: OpenSSL's default would prompt on the
 * terminal, and a server has none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int load_key(const char *path, struct ring_key *k, struct plat_error *err)
{
	/* Symlinks are followed (Kubernetes mounts secrets through them); the mode checked is
	 * the file's own. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return plat_error_set(err, PLAT_E_CONFIG, "signing key '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG, "signing key '%s' is not a regular file", path);
	}
	/* As ssh does with its keys: a private key others can read is already compromised. */
	if (st.st_mode & 077) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG, "signing key '%s' is readable by others (mode %04o; use 0600)",
				      path, (unsigned)(st.st_mode & 07777));
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG, "signing key '%s': %s", path, strerror(errno));
	}
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!pkey)
		return plat_error_set(err, PLAT_E_CONFIG, "signing key '%s' is not an unencrypted PEM private key", path);
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 || kid_of(pkey, k->kid) < 0) {
		EVP_PKEY_free(pkey);
		return plat_error_set(err, PLAT_E_CONFIG, "signing key '%s' is not an Ed25519 key", path);
	}
	k->pkey = pkey;
	k->name = plat_xstrdup(base_name(path));
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ring_key *)a)->name, ((const struct ring_key *)b)->name);
}

void plat_auth_keyring_free(struct plat_auth_keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++) {
		EVP_PKEY_free(kr->keys[i].pkey);
		free(kr->keys[i].name);
	}
	free(kr->keys);
	free(kr);
}

int plat_auth_keyring_load_files(const char *const *paths, size_t n, struct plat_auth_keyring **out,
				 struct plat_error *err)
{
	*out = NULL;
	if (n == 0)
		return plat_error_set(err, PLAT_E_CONFIG, "no signing key configured");
	struct plat_auth_keyring *kr = plat_xcalloc(1, sizeof(*kr));
	kr->keys = plat_xcalloc(n, sizeof(*kr->keys));
	for (size_t i = 0; i < n; i++) {
		if (load_key(paths[i], &kr->keys[i], err) < 0) {
			plat_auth_keyring_free(kr);
			return -err->kind;
		}
		kr->n = i + 1;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(kr->keys[j].kid, kr->keys[i].kid)) {
				plat_error_set(err, PLAT_E_CONFIG, "signing keys '%s' and '%s' are the same key",
					       kr->keys[j].name, kr->keys[i].name);
				plat_auth_keyring_free(kr);
				return -PLAT_E_CONFIG;
			}
	}
	qsort(kr->keys, kr->n, sizeof(*kr->keys), by_name);
	*out = kr;
	return 0;
}

int plat_auth_keyring_load_dir(const char *dir, struct plat_auth_keyring **out, struct plat_error *err)
{
	*out = NULL;
	DIR *d = opendir(dir);
	if (!d)
		return plat_error_set(err, PLAT_E_CONFIG, "signing key directory '%s': %s", dir, strerror(errno));
	char **paths = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".pem"))
			continue;
		paths = plat_xrealloc(paths, (n + 1) * sizeof(*paths));
		size_t pl = strlen(dir) + l + 2;
		paths[n] = plat_xmalloc(pl);
		snprintf(paths[n++], pl, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	int rc = n ? plat_auth_keyring_load_files((const char *const *)paths, n, out, err)
		   : plat_error_set(err, PLAT_E_CONFIG, "signing key directory '%s' has no *.pem key", dir);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

int plat_auth_keyring_load(const char *spec, struct plat_auth_keyring **out, struct plat_error *err)
{
	*out = NULL;
	if (!spec || !spec[0])
		return plat_error_set(err, PLAT_E_CONFIG, "no signing key configured");
	struct stat st;
	if (!strchr(spec, ',') && stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
		return plat_auth_keyring_load_dir(spec, out, err);
	char *copy = plat_xstrdup(spec), *save = NULL;
	const char **paths = NULL;
	size_t n = 0;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (!*p)
			continue;
		paths = plat_xrealloc(paths, (n + 1) * sizeof(*paths));
		paths[n++] = p;
	}
	int rc = plat_auth_keyring_load_files(paths, n, out, err);
	free(paths);
	free(copy);
	return rc;
}

size_t plat_auth_keyring_count(const struct plat_auth_keyring *kr)
{
	return kr ? kr->n : 0;
}

const char *plat_auth_keyring_signing_kid(const struct plat_auth_keyring *kr)
{
	return kr && kr->n ? kr->keys[kr->n - 1].kid : NULL;
}

int plat_auth_keyring_sign(const struct plat_auth_keyring *kr, const void *data, size_t len, char **sig,
			   struct plat_error *err)
{
	*sig = NULL;
	if (!kr || !kr->n)
		return plat_error_set(err, PLAT_E_CONFIG, "no signing key configured");
	unsigned char raw[64];
	size_t raw_len = sizeof(raw);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, kr->keys[kr->n - 1].pkey) == 1 &&
		 EVP_DigestSign(ctx, raw, &raw_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return plat_error_set(err, PLAT_E_INTERNAL, "signing failed");
	*sig = plat_xmalloc(raw_len * 4 / 3 + 4);
	plat_b64url_encode(raw, raw_len, *sig);
	return 0;
}

char *plat_auth_keyring_public_pem(const struct plat_auth_keyring *kr)
{
	if (!kr || !kr->n)
		return NULL;
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n;
	if (mem && PEM_write_bio_PUBKEY(mem, kr->keys[kr->n - 1].pkey) == 1 && (n = BIO_get_mem_data(mem, &data)) > 0) {
		out = plat_xmalloc((size_t)n + 1);
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(mem);
	return out;
}

static EVP_PKEY *ed25519_public(const char *pem)
{
	BIO *mem = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	EVP_PKEY *pkey = mem ? PEM_read_bio_PUBKEY(mem, NULL, no_passphrase, NULL) : NULL;
	BIO_free(mem);
	if (pkey && EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

int plat_auth_ed25519_verify_pem(const char *public_pem, const void *data, size_t len, const char *sig,
				 char kid[PLAT_LOCALJWT_KID_LEN + 1], struct plat_error *err)
{
	EVP_PKEY *pkey = ed25519_public(public_pem);
	if (!pkey)
		return plat_error_set(err, PLAT_E_FAILURE, "the public key is not an Ed25519 public key in PEM");
	int rc = 0;
	size_t sl = sig ? strlen(sig) : 0;
	unsigned char raw[100];
	long n = sl && sl < 120 ? plat_b64url_decode(sig, sl, raw) : -1;
	if (n != 64)
		rc = plat_error_set(err, PLAT_E_FAILURE, "the signature is not a base64url Ed25519 signature");
	else if (!jws_ed25519_verify(pkey, data, len, raw, (size_t)n))
		rc = plat_error_set(err, PLAT_E_FAILURE, "the signature does not match the content and the public key");
	if (rc == 0 && kid && kid_of(pkey, kid) < 0)
		rc = plat_error_set(err, PLAT_E_INTERNAL, "cannot derive the key id");
	EVP_PKEY_free(pkey);
	return rc;
}

bool plat_auth_ed25519_same_key(const char *pem_a, const char *pem_b)
{
	EVP_PKEY *a = ed25519_public(pem_a), *b = ed25519_public(pem_b);
	bool same = a && b && EVP_PKEY_eq(a, b) == 1;
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return same;
}

void plat_auth_localjwt_key_name(char out[40])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 40, "ed25519-%Y%m%dT%H%M%SZ.pem", &tm);
}

int plat_auth_localjwt_key_generate(const char *path, char kid[PLAT_LOCALJWT_KID_LEN + 1], struct plat_error *err)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey)
		return plat_error_set(err, PLAT_E_INTERNAL, "generating an Ed25519 key failed");
	char k[PLAT_LOCALJWT_KID_LEN + 1];
	kid_of(pkey, k);
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long pem_len = 0;
	if (!mem || PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (pem_len = BIO_get_mem_data(mem, &pem)) <= 0) {
		BIO_free(mem);
		EVP_PKEY_free(pkey);
		return plat_error_set(err, PLAT_E_INTERNAL, "encoding an Ed25519 key failed");
	}
	size_t tl = strlen(path) + 16;
	char *tmp = plat_xmalloc(tl);
	snprintf(tmp, tl, "%s.tmp.XXXXXX", path);
	int rc = 0;
	int fd = mkstemp(tmp); /* 0600 */
	if (fd < 0) {
		rc = plat_error_set(err, PLAT_E_FAILURE, "writing signing key '%s': %s", path, strerror(errno));
	} else {
		if (fchmod(fd, 0600) < 0 || plat_write_all(fd, pem, (size_t)pem_len) < 0 || fsync(fd) < 0)
			rc = plat_error_set(err, PLAT_E_FAILURE, "writing signing key '%s': %s", path, strerror(errno));
		if (close(fd) < 0 && rc == 0)
			rc = plat_error_set(err, PLAT_E_FAILURE, "writing signing key '%s': %s", path, strerror(errno));
		/* link, not rename: as atomic, but it never replaces a key that already exists. */
		if (rc == 0 && link(tmp, path) < 0)
			rc = plat_error_set(err, errno == EEXIST ? PLAT_E_CONFLICT : PLAT_E_FAILURE,
					    "writing signing key '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
	if (rc == 0) {
		/* The new name must survive a crash too. */
		char *dir = plat_xstrdup(path);
		char *slash = strrchr(dir, '/');
		int dfd = open(slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".", O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
		if (kid)
			memcpy(kid, k, sizeof(k));
	}
	OPENSSL_cleanse(pem, (size_t)pem_len);
	BIO_free(mem);
	free(tmp);
	EVP_PKEY_free(pkey);
	return rc;
}

static char *b64url_json(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	size_t n = strlen(s);
	char *out = plat_xmalloc(n * 4 / 3 + 4);
	plat_b64url_encode((const unsigned char *)s, n, out);
	cJSON_free(s);
	return out;
}

int plat_auth_localjwt_issue(const struct plat_auth_keyring *kr, const struct plat_auth_localjwt_claims *c,
			     char **token, struct plat_error *err)
{
	*token = NULL;
	if (!kr || !kr->n)
		return plat_error_set(err, PLAT_E_CONFIG, "no signing key configured");
	if (!c->issuer || !c->subject || !c->audience || !c->tenant || !plat_auth_role_valid(c->role) || c->ttl_s <= 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "issuing a token: incomplete claims");
	const struct ring_key *k = &kr->keys[kr->n - 1];
	unsigned char rnd[16];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return plat_error_set(err, PLAT_E_INTERNAL, "issuing a token: the random source failed");
	char jti[33];
	plat_hex(rnd, sizeof(rnd), jti);
	long long now = c->now ? c->now : (long long)time(NULL);

	cJSON *h = cJSON_CreateObject(), *p = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "alg", "EdDSA");
	cJSON_AddStringToObject(h, "typ", "at+jwt");
	cJSON_AddStringToObject(h, "kid", k->kid);
	cJSON_AddStringToObject(p, "iss", c->issuer);
	cJSON_AddStringToObject(p, "sub", c->subject);
	cJSON_AddStringToObject(p, "aud", c->audience);
	cJSON_AddNumberToObject(p, "exp", (double)(now + c->ttl_s));
	cJSON_AddNumberToObject(p, "iat", (double)now);
	cJSON_AddNumberToObject(p, "nbf", (double)now);
	cJSON_AddStringToObject(p, "jti", jti);
	cJSON_AddStringToObject(p, "tenant", c->tenant);
	cJSON_AddStringToObject(p, "role", c->role);
	char *hs = b64url_json(h), *ps = b64url_json(p);
	cJSON_Delete(h);
	cJSON_Delete(p);

	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%s.%s", hs, ps);
	free(hs);
	free(ps);
	unsigned char sig[64];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		 EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)b.data, b.len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		plat_buf_free(&b);
		return plat_error_set(err, PLAT_E_INTERNAL, "signing a token failed");
	}
	char s64[90];
	plat_b64url_encode(sig, sig_len, s64);
	plat_buf_printf(&b, ".%s", s64);
	*token = plat_buf_detach(&b);
	return 0;
}

static const char *claim_string(const cJSON *claims, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

int plat_auth_localjwt_verify(const struct plat_auth_keyring *kr, const struct plat_auth_localjwt_verify_options *o,
			      const char *token, struct plat_auth_result *res, struct plat_error *err)
{
	memset(res, 0, sizeof(*res));
	struct jws_parts p;
	int rc = jws_parse(token, PLAT_LOCALJWT_MAX_LEN, &p, res, err);
	if (rc < 0)
		return rc;
	const struct ring_key *k = NULL;
	for (size_t i = 0; kr && p.kid && i < kr->n && !k; i++)
		if (!strcmp(kr->keys[i].kid, p.kid))
			k = &kr->keys[i];
	enum plat_auth_reason r = PLAT_AUTH_OK;
	if (!k)
		r = PLAT_AUTH_R_UNKNOWN_KID;
	else if (strcmp(p.alg, "EdDSA")) /* every key in the ring is Ed25519 */
		r = PLAT_AUTH_R_ALG_MISMATCH;
	else if (!p.typ || (strcasecmp(p.typ, "at+jwt") && strcasecmp(p.typ, "application/at+jwt")))
		r = PLAT_AUTH_R_TYPE;
	else if (!jws_ed25519_verify(k->pkey, p.signing_input, p.signing_len, p.sig, p.sig_len))
		r = PLAT_AUTH_R_BAD_SIGNATURE;
	if (r != PLAT_AUTH_OK) {
		jws_parts_free(&p);
		return plat_auth_refuse(err, res, r);
	}
	struct jwt_expect x = {.issuer = o->issuer,
			       .audience = o->audience,
			       .leeway_s = o->leeway_s,
			       .now = o->now ? o->now : (long long)time(NULL)};
	rc = jwt_check_claims(p.claims, &x, res, err);
	if (rc == 0) {
		const char *tenant = claim_string(p.claims, "tenant"), *role = claim_string(p.claims, "role");
		if (!tenant || !tenant[0] || strlen(tenant) >= sizeof(res->tenant))
			rc = plat_auth_refuse(err, res, PLAT_AUTH_R_NO_TENANT);
		else if (!plat_auth_role_valid(role))
			rc = plat_auth_refuse(err, res, PLAT_AUTH_R_NO_ROLE);
		else {
			snprintf(res->tenant, sizeof(res->tenant), "%s", tenant);
			snprintf(res->role, sizeof(res->role), "%s", role);
			res->kind = PLAT_AUTH_LOCAL;
		}
	}
	jws_parts_free(&p);
	return rc;
}
