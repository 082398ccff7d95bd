#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "log/log.h"
#include "mem/mem.h"
#include "str/str.h"

extern char **environ;

/* A config file bigger than this is a mistake (or an attack), not a configuration. */
#define CONFIG_MAX_BYTES (1024 * 1024)

/* PLATCTL_* variables that are not config keys and must not be warned about. */
static const char *const known_non_key_env[] = {"PLATCTL_CONFIG", "PLATCTL_PROFILE", "PLATCTL_REQUEST_ID", "PLATCTL_TOKEN", NULL};

struct config_value {
	char *str;
	long long num;
	bool set;
	enum plat_config_source source;
	char *origin;
};

struct plat_config {
	struct config_value v[PLAT_CFG__COUNT];
	char *file;
	char *profile;
	struct plat_config_diag *diags;
	size_t n_diags;
};

/* ---- key names ---- */

int plat_config_key_lookup(const char *name)
{
	for (int k = 0; k < PLAT_CFG__COUNT; k++)
		if (strcmp(plat_config_key_def(k)->name, name) == 0)
			return k;
	return -1;
}

void plat_config_env_name(const char *key_name, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "PLATCTL_");
	for (const char *p = key_name; *p && o + 1 < len; p++, o++)
		buf[o] = *p == '.' ? '_' : (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
	buf[o < len ? o : len - 1] = '\0';
}

/* True when name is a strict dotted prefix of some key ("database" for "database.url"). */
static bool is_section(const char *name)
{
	size_t n = strlen(name);
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		const char *kn = plat_config_key_def(k)->name;
		if (strncmp(kn, name, n) == 0 && kn[n] == '.')
			return true;
	}
	return false;
}

static const char *closest_key(const char *name)
{
	const char *best = NULL;
	size_t best_d = 4; /* only suggest near misses */
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		const char *kn = plat_config_key_def(k)->name;
		size_t d = plat_str_edit_distance(name, kn);
		if (d < best_d) {
			best_d = d;
			best = kn;
		}
	}
	return best;
}

/* ---- diagnostics ---- */

static void add_diag(struct plat_config *cfg, enum plat_config_severity sev, const char *file, int line,
		     int column, const char *key, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void add_diag(struct plat_config *cfg, enum plat_config_severity sev, const char *file, int line,
		     int column, const char *key, const char *fmt, ...)
{
	cfg->diags = plat_xrealloc(cfg->diags, (cfg->n_diags + 1) * sizeof(*cfg->diags));
	struct plat_config_diag *d = &cfg->diags[cfg->n_diags++];
	struct plat_buf msg = PLAT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	plat_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	d->severity = sev;
	d->file = file ? plat_xstrdup(file) : NULL;
	d->line = line;
	d->column = column;
	d->key = key ? plat_xstrdup(key) : NULL;
	d->message = plat_buf_detach(&msg);
}

size_t plat_config_diag_count(const struct plat_config *cfg)
{
	return cfg->n_diags;
}

const struct plat_config_diag *plat_config_diag(const struct plat_config *cfg, size_t i)
{
	return i < cfg->n_diags ? &cfg->diags[i] : NULL;
}

char *plat_config_diag_format(const struct plat_config_diag *d)
{
	struct plat_buf b = PLAT_BUF_INIT;
	if (d->file) {
		plat_str_escape_terminal(&b, d->file, strlen(d->file));
		if (d->line > 0)
			plat_buf_printf(&b, ":%d:%d", d->line, d->column);
		plat_buf_puts(&b, ": ");
	}
	if (d->key) {
		plat_buf_puts(&b, "key '");
		plat_str_escape_terminal(&b, d->key, strlen(d->key));
		plat_buf_puts(&b, "': ");
	}
	plat_buf_puts(&b, d->message);
	return plat_buf_detach(&b);
}

static size_t count_errors(const struct plat_config *cfg)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_diags; i++)
		n += cfg->diags[i].severity == PLAT_CFG_ERROR;
	return n;
}

static int config_error_result(const struct plat_config *cfg, struct plat_error *err)
{
	size_t n = count_errors(cfg);
	if (n == 0)
		return 0;
	for (size_t i = 0; i < cfg->n_diags; i++) {
		if (cfg->diags[i].severity != PLAT_CFG_ERROR)
			continue;
		char *first = plat_config_diag_format(&cfg->diags[i]);
		if (n > 1)
			plat_error_set(err, PLAT_E_CONFIG, "%s (and %zu more; see 'platctl config validate')", first, n - 1);
		else
			plat_error_set(err, PLAT_E_CONFIG, "%s", first);
		free(first);
		break;
	}
	return -PLAT_E_CONFIG;
}

/* ---- values ---- */

static int parse_duration_ms(const char *s, long long *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	long long n = strtoll(s, &end, 10);
	if (errno)
		return -1;
	long long mult;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * 1000;
	else
		return -1;
	if (n > LLONG_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

static int parse_size(const char *s, long long *out)
{
	static const struct {
		const char *unit;
		long long mult;
	} units[] = {{"", 1}, {"B", 1}, {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
		     {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if (n > LLONG_MAX / units[i].mult)
				return -1;
			*out = n * units[i].mult;
			return 0;
		}
	}
	return -1;
}

/* Check text against the key's type and rules. On success sets *num (ints, bools,
 * durations) and returns 0; otherwise writes a short reason into why. */
static int parse_value(const struct plat_config_key_def *def, const char *text, long long *num, char *why,
		       size_t why_len)
{
	*num = 0;
	if (!plat_utf8_valid(text, strlen(text))) {
		snprintf(why, why_len, "value is not valid UTF-8");
		return -1;
	}
	switch (def->type) {
	case PLAT_CFG_T_STRING:
		break;
	case PLAT_CFG_T_INT: {
		char *end;
		errno = 0;
		long long n = strtoll(text, &end, 10);
		if (errno || end == text || *end) {
			snprintf(why, why_len, "expected an integer");
			return -1;
		}
		if (def->min != def->max && (n < def->min || n > def->max)) {
			snprintf(why, why_len, "must be between %lld and %lld", def->min, def->max);
			return -1;
		}
		*num = n;
		break;
	}
	case PLAT_CFG_T_BOOL: {
		static const char *const t[] = {"true", "yes", "on", "1"}, *const f[] = {"false", "no", "off", "0"};
		for (size_t i = 0; i < 4; i++) {
			if (strcmp(text, t[i]) == 0) {
				*num = 1;
				goto done;
			}
			if (strcmp(text, f[i]) == 0)
				goto done;
		}
		snprintf(why, why_len, "expected true or false");
		return -1;
	}
	case PLAT_CFG_T_ENUM: {
		for (const char *const *c = def->choices; *c; c++)
			if (strcmp(text, *c) == 0)
				goto done;
		struct plat_buf b = PLAT_BUF_INIT;
		for (const char *const *c = def->choices; *c; c++)
			plat_buf_printf(&b, "%s%s", c == def->choices ? "" : ", ", *c);
		snprintf(why, why_len, "expected one of: %s", b.data);
		plat_buf_free(&b);
		return -1;
	}
	case PLAT_CFG_T_SIZE:
		if (parse_size(text, num) < 0) {
			snprintf(why, why_len, "expected a size such as 512KiB, 16MiB or 1GiB");
			return -1;
		}
		if (def->min != def->max && (*num < def->min || *num > def->max)) {
			snprintf(why, why_len, "must be between %lld and %lld bytes", def->min, def->max);
			return -1;
		}
		break;
	case PLAT_CFG_T_DURATION:
		if (parse_duration_ms(text, num) < 0) {
			snprintf(why, why_len, "expected a duration such as 500ms, 10s, 5m or 2h");
			return -1;
		}
		if (def->min != def->max && (*num < def->min || *num > def->max)) {
			snprintf(why, why_len, "must be between %llds and %llds", def->min / 1000, def->max / 1000);
			return -1;
		}
		break;
	}
done:
	if (def->validate && def->validate(text, why, why_len) < 0)
		return -1;
	return 0;
}

static void store(struct plat_config *cfg, enum plat_config_key key, const char *text, long long num,
		  enum plat_config_source source, const char *origin)
{
	struct config_value *v = &cfg->v[key];
	free(v->str);
	free(v->origin);
	v->str = plat_xstrdup(text);
	v->num = num;
	v->set = true;
	v->source = source;
	v->origin = plat_xstrdup(origin);
}

int plat_config_set(struct plat_config *cfg, enum plat_config_key key, const char *value,
		    enum plat_config_source source, const char *origin, struct plat_error *err)
{
	const struct plat_config_key_def *def = plat_config_key_def(key);
	char why[256];
	long long num;
	if (parse_value(def, value, &num, why, sizeof(why)) < 0) {
		struct plat_buf shown = PLAT_BUF_INIT;
		if (def->flags & (PLAT_CFG_SECRET | PLAT_CFG_SECRET_URL))
			plat_buf_puts(&shown, PLAT_REDACTED);
		else
			plat_str_escape_terminal(&shown, value, strlen(value));
		add_diag(cfg, PLAT_CFG_ERROR, NULL, 0, 0, def->name, "%s: invalid value '%s': %s", origin,
			 shown.data, why);
		plat_buf_free(&shown);
		return config_error_result(cfg, err);
	}
	store(cfg, key, value, num, source, origin);
	return 0;
}

/* ---- YAML ---- */

struct walk {
	struct plat_config *cfg;
	yaml_document_t *doc;
	const char *file;
	bool apply; /* false: check only (profiles that are not active) */
	/* Line where each key was set in this mapping tree: "a: {b: 1}" and "a.b: 2" are
	 * the same key, which a per-mapping duplicate check cannot see. */
	int seen_line[PLAT_CFG__COUNT];
};

static bool is_null_scalar(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

#define MARK_LINE(n) ((int)(n)->start_mark.line + 1)
#define MARK_COL(n) ((int)(n)->start_mark.column + 1)

/* Report duplicate keys: YAML forbids them and libyaml does not check. */
static bool is_duplicate(struct walk *w, yaml_node_t *map, yaml_node_pair_t *upto, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return true;
	}
	return false;
}

static void walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix, bool top)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(w->doc, p->value);
		if (!kn || !vn)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			add_diag(w->cfg, PLAT_CFG_ERROR, w->file, MARK_LINE(kn), MARK_COL(kn), NULL,
				 "mapping keys must be plain names, found %s", node_kind(kn));
			continue;
		}
		const char *k = (const char *)kn->data.scalar.value;
		struct plat_buf name = PLAT_BUF_INIT;
		plat_buf_printf(&name, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", k);

		if (is_duplicate(w, map, p, k)) {
			add_diag(w->cfg, PLAT_CFG_ERROR, w->file, MARK_LINE(kn), MARK_COL(kn), name.data,
				 "duplicate key");
		} else if (top && (!strcmp(k, "profile") || !strcmp(k, "profiles"))) {
			/* handled by the caller */
		} else {
			int key = plat_config_key_lookup(name.data);
			if (key >= 0) {
				const struct plat_config_key_def *def = plat_config_key_def(key);
				char why[256];
				long long num;
				if (w->seen_line[key]) {
					add_diag(w->cfg, PLAT_CFG_ERROR, w->file, MARK_LINE(kn), MARK_COL(kn), def->name,
						 "duplicate key (already set on line %d)", w->seen_line[key]);
				} else if (vn->type != YAML_SCALAR_NODE) {
					add_diag(w->cfg, PLAT_CFG_ERROR, w->file, MARK_LINE(vn), MARK_COL(vn), def->name,
						 "expected a single value, found %s", node_kind(vn));
				} else if (is_null_scalar(vn)) {
					/* `key:` with no value leaves the default in place */
					w->seen_line[key] = MARK_LINE(kn);
				} else if (parse_value(def, (const char *)vn->data.scalar.value, &num, why, sizeof(why)) < 0) {
					add_diag(w->cfg, PLAT_CFG_ERROR, w->file, MARK_LINE(vn), MARK_COL(vn), def->name,
						 "%s", why);
				} else if (!w->apply) {
					w->seen_line[key] = MARK_LINE(kn);
				} else if (w->apply) {
					w->seen_line[key] = MARK_LINE(kn);
					struct plat_buf origin = PLAT_BUF_INIT;
					plat_buf_printf(&origin, "%s:%d:%d", w->file, MARK_LINE(vn), MARK_COL(vn));
					store(w->cfg, key, (const char *)vn->data.scalar.value, num, PLAT_CFG_SRC_FILE,
					      origin.data);
					plat_buf_free(&origin);
				}
			} else if (is_section(name.data)) {
				if (vn->type == YAML_MAPPING_NODE)
					walk_mapping(w, vn, name.data, false);
				else if (!is_null_scalar(vn))
					add_diag(w->cfg, PLAT_CFG_ERROR, w->file, MARK_LINE(vn), MARK_COL(vn), name.data,
						 "is a section: expected a mapping, found %s", node_kind(vn));
			} else {
				const char *near = closest_key(name.data);
				add_diag(w->cfg, PLAT_CFG_WARNING, w->file, MARK_LINE(kn), MARK_COL(kn), name.data,
					 "unknown key, ignored%s%s%s", near ? " (did you mean '" : "", near ? near : "",
					 near ? "'?)" : "");
			}
		}
		plat_buf_free(&name);
	}
}

static yaml_node_t *top_value(yaml_document_t *doc, yaml_node_t *root, const char *key)
{
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		if (kn && kn->type == YAML_SCALAR_NODE && strcmp((const char *)kn->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static void apply_document(struct plat_config *cfg, const char *file, yaml_document_t *doc, const char *profile)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root || is_null_scalar(root))
		return; /* an empty file is a valid, empty configuration */
	if (root->type != YAML_MAPPING_NODE) {
		add_diag(cfg, PLAT_CFG_ERROR, file, MARK_LINE(root), MARK_COL(root), NULL,
			 "the configuration must be a mapping of keys, found %s", node_kind(root));
		return;
	}
	struct walk w = {cfg, doc, file, true, {0}};
	walk_mapping(&w, root, NULL, true);

	yaml_node_t *pn = top_value(doc, root, "profile");
	if (pn && !is_null_scalar(pn)) {
		if (pn->type != YAML_SCALAR_NODE)
			add_diag(cfg, PLAT_CFG_ERROR, file, MARK_LINE(pn), MARK_COL(pn), "profile",
				 "expected a profile name, found %s", node_kind(pn));
		else if (!profile)
			profile = (const char *)pn->data.scalar.value;
	}

	bool found = false;
	yaml_node_t *profiles = top_value(doc, root, "profiles");
	if (profiles && profiles->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = profiles->data.mapping.pairs.start; p < profiles->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(doc, p->value);
			if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
				continue;
			const char *name = (const char *)kn->data.scalar.value;
			if (is_duplicate(&w, profiles, p, name)) {
				add_diag(cfg, PLAT_CFG_ERROR, file, MARK_LINE(kn), MARK_COL(kn), NULL,
					 "duplicate profile '%s'", name);
				continue;
			}
			if (vn->type != YAML_MAPPING_NODE) {
				/* "name:" with nothing under it is a defined, empty profile. */
				found |= is_null_scalar(vn) && profile && strcmp(profile, name) == 0;
				if (!is_null_scalar(vn))
					add_diag(cfg, PLAT_CFG_ERROR, file, MARK_LINE(vn), MARK_COL(vn), NULL,
						 "profile '%s' must be a mapping of keys, found %s", name, node_kind(vn));
				continue;
			}
			/* Every profile is checked so a typo in one that is not active is still found. */
			struct walk pw = {cfg, doc, file, profile && strcmp(profile, name) == 0, {0}};
			found |= pw.apply;
			walk_mapping(&pw, vn, NULL, false);
		}
	} else if (profiles && !is_null_scalar(profiles)) {
		add_diag(cfg, PLAT_CFG_ERROR, file, MARK_LINE(profiles), MARK_COL(profiles), "profiles",
			 "expected a mapping of profile names, found %s", node_kind(profiles));
	}

	if (profile && !found && strcmp(profile, "default") != 0)
		add_diag(cfg, PLAT_CFG_ERROR, file, 0, 0, NULL, "profile '%s' is not defined", profile);
	if (profile) {
		free(cfg->profile);
		cfg->profile = plat_xstrdup(profile);
	}
}

int plat_config_load_buffer(struct plat_config *cfg, const char *name, const char *data, size_t len,
			    const char *profile, struct plat_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		add_diag(cfg, PLAT_CFG_ERROR, name, (int)parser.problem_mark.line + 1,
			 (int)parser.problem_mark.column + 1, NULL, "YAML syntax error: %s%s%s",
			 parser.problem ? parser.problem : "unknown problem", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return config_error_result(cfg, err);
	}
	apply_document(cfg, name, &doc, profile);

	/* A second document would be silently ignored; refuse it instead. */
	yaml_document_t next;
	if (yaml_parser_load(&parser, &next)) {
		yaml_node_t *root = yaml_document_get_root_node(&next);
		if (root)
			add_diag(cfg, PLAT_CFG_ERROR, name, MARK_LINE(root), MARK_COL(root), NULL,
				 "the configuration must be a single YAML document");
		yaml_document_delete(&next);
	} else {
		add_diag(cfg, PLAT_CFG_ERROR, name, (int)parser.problem_mark.line + 1,
			 (int)parser.problem_mark.column + 1, NULL, "YAML syntax error: %s",
			 parser.problem ? parser.problem : "unknown problem");
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return config_error_result(cfg, err);
}

/* ---- files and environment ---- */

static int read_config_file(struct plat_config *cfg, const char *path, struct plat_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		add_diag(cfg, PLAT_CFG_ERROR, path, 0, 0, NULL, "cannot open config file: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		add_diag(cfg, PLAT_CFG_ERROR, path, 0, 0, NULL, "cannot read config file: is a directory");
		close(fd);
		return -1;
	}
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			add_diag(cfg, PLAT_CFG_ERROR, path, 0, 0, NULL, "cannot read config file: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > CONFIG_MAX_BYTES) {
			add_diag(cfg, PLAT_CFG_ERROR, path, 0, 0, NULL, "config file is larger than %d bytes",
				 CONFIG_MAX_BYTES);
			close(fd);
			return -1;
		}
		plat_buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

const char *plat_env_get(char **env, const char *name)
{
	size_t n = strlen(name);
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

char *plat_config_user_path(char **env)
{
	struct plat_buf b = PLAT_BUF_INIT;
	const char *xdg = plat_env_get(env ? env : environ, "XDG_CONFIG_HOME");
	const char *home = plat_env_get(env ? env : environ, "HOME");
	if (xdg && *xdg == '/')
		plat_buf_printf(&b, "%s/platctl/config.yaml", xdg);
	else if (home && *home)
		plat_buf_printf(&b, "%s/.config/platctl/config.yaml", home);
	else
		return NULL;
	return plat_buf_detach(&b);
}

static char *default_search_path(char **env)
{
	char *user = plat_config_user_path(env);
	if (user && access(user, F_OK) == 0)
		return user;
	free(user);
	if (access("/etc/platctl/config.yaml", F_OK) == 0)
		return plat_xstrdup("/etc/platctl/config.yaml");
	return NULL;
}

static void apply_environment(struct plat_config *cfg, char **env)
{
	for (char **e = env; e && *e; e++) {
		if (strncmp(*e, "PLATCTL_", 8) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		struct plat_buf var = PLAT_BUF_INIT;
		plat_buf_append(&var, *e, (size_t)(eq - *e));
		bool known = false;
		for (const char *const *k = known_non_key_env; *k && !known; k++)
			known = strcmp(var.data, *k) == 0;
		for (int k = 0; k < PLAT_CFG__COUNT && !known; k++) {
			char name[128];
			plat_config_env_name(plat_config_key_def(k)->name, name, sizeof(name));
			if (strcmp(name, var.data) == 0) {
				known = true;
				struct plat_buf origin = PLAT_BUF_INIT;
				plat_buf_printf(&origin, "env %s", name);
				if (eq[1] != '\0') /* an empty variable means unset, as with most tools */
					plat_config_set(cfg, k, eq + 1, PLAT_CFG_SRC_ENV, origin.data, NULL);
				plat_buf_free(&origin);
			}
		}
		if (!known)
			add_diag(cfg, PLAT_CFG_WARNING, NULL, 0, 0, NULL, "unknown environment variable '%s' ignored",
				 var.data);
		plat_buf_free(&var);
	}
}

int plat_config_load(struct plat_config *cfg, const struct plat_config_load_options *opts, struct plat_error *err)
{
	char **env = opts->environ ? opts->environ : environ;
	const char *profile = opts->profile;
	if (!profile) {
		profile = plat_env_get(env, "PLATCTL_PROFILE");
		if (profile && !*profile)
			profile = NULL;
	}

	char *path = NULL;
	if (opts->path) {
		path = plat_xstrdup(opts->path);
	} else {
		const char *p = plat_env_get(env, "PLATCTL_CONFIG");
		if (p && *p)
			path = plat_xstrdup(p);
		else if (!opts->no_search)
			path = default_search_path(env);
	}

	if (path) {
		free(cfg->file);
		cfg->file = plat_xstrdup(path);
		struct plat_buf data = PLAT_BUF_INIT;
		if (read_config_file(cfg, path, &data) == 0)
			plat_config_load_buffer(cfg, path, data.data ? data.data : "", data.len, profile, NULL);
		plat_buf_free(&data);
	} else if (profile && strcmp(profile, "default") != 0) {
		add_diag(cfg, PLAT_CFG_ERROR, NULL, 0, 0, NULL,
			 "profile '%s' requested but no config file was found", profile);
	}
	free(path);

	apply_environment(cfg, env);
	return config_error_result(cfg, err);
}

/* ---- accessors ---- */

struct plat_config *plat_config_new(void)
{
	struct plat_config *cfg = plat_xcalloc(1, sizeof(*cfg));
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		const struct plat_config_key_def *def = plat_config_key_def(k);
		const char *dv = def->default_fn ? def->default_fn() : def->default_value;
		if (dv) {
			char why[256];
			long long num = 0;
			/* Defaults are checked by tests/unit/test_config.c; a bad one is a bug. */
			parse_value(def, dv, &num, why, sizeof(why));
			store(cfg, k, dv, num, PLAT_CFG_SRC_DEFAULT, "default");
			cfg->v[k].set = false;
		}
	}
	return cfg;
}

void plat_config_free(struct plat_config *cfg)
{
	if (!cfg)
		return;
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		free(cfg->v[k].str);
		free(cfg->v[k].origin);
	}
	for (size_t i = 0; i < cfg->n_diags; i++) {
		free(cfg->diags[i].file);
		free(cfg->diags[i].key);
		free(cfg->diags[i].message);
	}
	free(cfg->diags);
	free(cfg->file);
	free(cfg->profile);
	free(cfg);
}

const char *plat_config_str(const struct plat_config *cfg, enum plat_config_key key)
{
	return cfg->v[key].str ? cfg->v[key].str : "";
}

long long plat_config_int(const struct plat_config *cfg, enum plat_config_key key)
{
	return cfg->v[key].num;
}

bool plat_config_bool(const struct plat_config *cfg, enum plat_config_key key)
{
	return cfg->v[key].num != 0;
}

bool plat_config_is_set(const struct plat_config *cfg, enum plat_config_key key)
{
	return cfg->v[key].set;
}

enum plat_config_source plat_config_source(const struct plat_config *cfg, enum plat_config_key key)
{
	return cfg->v[key].source;
}

const char *plat_config_origin(const struct plat_config *cfg, enum plat_config_key key)
{
	return cfg->v[key].origin ? cfg->v[key].origin : "default";
}

const char *plat_config_file(const struct plat_config *cfg)
{
	return cfg->file;
}

const char *plat_config_profile(const struct plat_config *cfg)
{
	return cfg->profile;
}

char *plat_config_display_value(const struct plat_config *cfg, enum plat_config_key key)
{
	const struct plat_config_key_def *def = plat_config_key_def(key);
	const char *v = plat_config_str(cfg, key);
	if ((def->flags & PLAT_CFG_SECRET) && *v)
		return plat_xstrdup(PLAT_REDACTED);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_redact(&b, v);
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

static char *dup_span(const char *s, size_t n)
{
	char *p = plat_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* The password inside a URL (user:PASSWORD@) or conninfo / query string (password=...),
 * found exactly as the redactor finds it. */
static char *extract_password(const char *v)
{
	size_t off, len;
	const char *scheme = strstr(v, "://");
	if (scheme && plat_secret_span_url(scheme + 3, &off, &len))
		return dup_span(scheme + 3 + off, len);
	const char *kw = strstr(v, "password");
	if (kw && plat_secret_span_keyword(v, (size_t)(kw - v), &off, &len)) {
		const char *val = v + off;
		if (len >= 2 && val[0] == '\'') /* quoted: the value inside the quotes */
			return dup_span(val + 1, len - 2);
		return dup_span(val, len);
	}
	return NULL;
}

/* Percent-decoding, so a password written as p%40ss is also redacted as p@ss. */
static void percent_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		unsigned hi, lo;
		if (*p == '%' && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
			*o++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

void plat_config_register_secrets(const struct plat_config *cfg)
{
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		const struct plat_config_key_def *def = plat_config_key_def(k);
		const char *v = plat_config_str(cfg, k);
		if (!*v)
			continue;
		if (def->flags & PLAT_CFG_SECRET)
			plat_log_add_secret(v);
		if (def->flags & PLAT_CFG_SECRET_URL) {
			char *pw = extract_password(v);
			if (pw) {
				plat_log_add_secret(pw);
				percent_decode(pw);
				plat_log_add_secret(pw);
				free(pw);
			}
		}
	}
}
