/* config.c: the configuration model: creation with defaults, reference counting, lookups, free. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "config.h"
#include "config_impl.h"
#include "revocation.h"

#define CONFIG_FILE_MAX (8u << 20) /* a configuration file larger than 8 MiB is refused */

void *
cv_config_grow(void *array, size_t *n, size_t elsize)
{
	char *v = realloc(array, (*n + 1) * elsize);

	if (v == NULL)
		return NULL;
	memset(v + *n * elsize, 0, elsize);
	(*n)++;
	return v;
}

void
cv_rev_settings_init(struct cv_rev_settings *rev)
{
	memset(rev, 0, sizeof(*rev));
	rev->methods[0] = cv_rev_method_find("crl"); /* R13: the default */
	rev->n_methods = 1;
	rev->crl_cache = CV_CRL_CACHE_DEFAULT;
	rev->crl_refresh_pct = 10;
	rev->nonce = CV_NONCE_REQUIRE;
	rev->nonce_length = 16;
	rev->ocsp_cache_s = -1;
	rev->chain = CV_CHAIN_STOP;
}

void
cv_trustpoint_init(struct cv_trustpoint *tp)
{
	cv_rev_settings_init(&tp->rev);
	tp->authz_username = CV_SUBJ_ALL;
	tp->profile = CV_PROFILE_RFC5280;
	tp->chain_depth = CV_PATH_MAX_DEPTH;
}

void *
cv_config_find(const void *v, size_t n, size_t elsize, size_t name_off, const char *name)
{
	const char *e = v;

	for (size_t i = 0; i < n; i++, e += elsize)
		if (strcmp(*(char *const *)(e + name_off), name) == 0)
			return (void *)e;
	return NULL;
}

struct cv_config *
cv_config_new(const char *path)
{
	struct cv_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->refs = 1;
	cfg->path = strdup(path != NULL ? path : "<adhoc>");
	cfg->socket_path = strdup("/run/certval/certvald.sock");
	cfg->socket_mode = 0660;
	cfg->max_request_bytes = 1u << 20;
	cfg->request_timeout_ms = 30000;
	cfg->max_connections = 4096;
	cfg->crl_max_bytes = 64u << 20;
	cfg->ocsp_max_bytes = 64u << 10;
	cfg->fetch_timeout_ms = 10000;
	cfg->fetch_retry_after_s = 10;
	cfg->ocsp_skew_s = 300;
	cfg->ocsp_no_next_update_s = 300;
	cfg->http_max_body = 64u << 10;
	cfg->http_max_header = 32u << 10;
	cfg->http_timeout_s = 10;
	cfg->verdict_cache_entries = 2048;
	cv_rev_settings_init(&cfg->trustpool.rev);
	cfg->trustpool.profile = CV_PROFILE_RFC5280;
	cfg->trustpool.chain_depth = CV_PATH_MAX_DEPTH;
	if (cfg->path == NULL || cfg->socket_path == NULL) {
		cv_config_unref(cfg);
		return NULL;
	}
	return cfg;
}

void
cv_config_warn(struct cv_config *cfg, unsigned line, const char *fmt, ...)
{
	struct cv_config_warning *w;
	va_list ap;

	w = cv_config_grow(cfg->warnings, &cfg->n_warnings, sizeof(*w));
	if (w == NULL)
		return; /* a warning lost to memory exhaustion is not worth failing the load */
	cfg->warnings = w;
	w = &cfg->warnings[cfg->n_warnings - 1];
	w->line = line;
	va_start(ap, fmt);
	vsnprintf(w->text, sizeof(w->text), fmt, ap);
	va_end(ap);
}

static void
free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
cv_match_rule_clear(struct cv_match_rule *m)
{
	free(m->label);
	free(m->cdp);
	free(m->ocsp_url);
	for (size_t j = 0; j < m->n_ocsp_trustpoints; j++)
		free(m->ocsp_trustpoints[j]);
	memset(m, 0, sizeof(*m));
}

void
cv_aaa_list_clear(struct cv_aaa_list *l)
{
	free(l->name);
	for (size_t j = 0; j < l->n_methods; j++)
		free(l->methods[j].group);
	memset(l, 0, sizeof(*l));
}

static void
rev_settings_free(struct cv_rev_settings *rev)
{
	free(rev->crl_query_url);
	free_strings(rev->crl_files, rev->n_crl_files);
	free(rev->ocsp_url);
	for (size_t i = 0; i < rev->n_matches; i++)
		cv_match_rule_clear(&rev->matches[i]);
	free(rev->matches);
	free(rev->chain_parent);
}

static void
trustpoint_free(struct cv_trustpoint *tp)
{
	free(tp->name);
	free(tp->ca_cert_path);
	cv_cert_list_free(&tp->ca_certs);
	free(tp->fingerprint);
	rev_settings_free(&tp->rev);
	free(tp->authz_list);
	free(tp->source_interface);
	free(tp->vrf);
	free_strings(tp->policies, tp->n_policies);
}

static void
config_free(struct cv_config *cfg)
{
	free(cfg->path);
	free(cfg->socket_path);
	free(cfg->admin_group);
	free(cfg->cache_dir);
	free(cfg->fetch_proxy);
	free(cfg->radius_source);
	free(cfg->tz_name);
	free_strings(cfg->http_listen, cfg->n_http_listen);
	free(cfg->http_cert_header);
	free(cfg->http_trustpoint);
	free(cfg->intermediate_pool_path);
	cv_cert_list_free(&cfg->intermediate_pool);
	for (size_t i = 0; i < cfg->n_trustpoints; i++)
		trustpoint_free(&cfg->trustpoints[i]);
	free(cfg->trustpoints);
	for (size_t i = 0; i < cfg->n_maps; i++) {
		for (size_t j = 0; j < cfg->maps[i].n_lines; j++)
			free(cfg->maps[i].lines[j].value);
		free(cfg->maps[i].lines);
		free(cfg->maps[i].label);
	}
	free(cfg->maps);
	free_strings(cfg->trustpool.bundle_paths, cfg->trustpool.n_bundle_paths);
	cv_cert_list_free(&cfg->trustpool.ca_certs);
	rev_settings_free(&cfg->trustpool.rev);
	for (size_t i = 0; i < cfg->n_aaa_lists; i++)
		cv_aaa_list_clear(&cfg->aaa_lists[i]);
	free(cfg->aaa_lists);
	for (size_t i = 0; i < cfg->n_aaa_servers; i++) {
		struct cv_aaa_server *s = &cfg->aaa_servers[i];

		free(s->name);
		free(s->address);
		free(s->secret);
		free(s->base_dn);
		free(s->attribute);
	}
	free(cfg->aaa_servers);
	for (size_t i = 0; i < cfg->n_aaa_attr_lists; i++) {
		struct cv_aaa_attr_list *l = &cfg->aaa_attr_lists[i];

		for (size_t j = 0; j < l->n_attrs; j++) {
			free(l->attrs[j].type);
			free(l->attrs[j].value);
		}
		free(l->attrs);
		free(l->name);
	}
	free(cfg->aaa_attr_lists);
	free(cfg->warnings);
	free(cfg);
}

struct cv_config *
cv_config_ref(struct cv_config *cfg)
{
	if (cfg != NULL)
		__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
	return cfg;
}

void
cv_config_unref(struct cv_config *cfg)
{
	if (cfg == NULL)
		return;
	if (__atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(cfg);
}

int
cv_config_load(const char *path, struct cv_config **out, struct cv_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (cv_read_file(path, CONFIG_FILE_MAX, &data, &len, err) < 0)
		return -1;
	rc = cv_config_parse(path, (const char *)data, len, out, err);
	free(data);
	return rc;
}

const struct cv_trustpoint *
cv_config_trustpoint(const struct cv_config *cfg, const char *name)
{
	return CFG_FIND(struct cv_trustpoint, cfg->trustpoints, cfg->n_trustpoints, name);
}

const struct cv_map_entry *
cv_config_map_first(const struct cv_config *cfg, const char *label, size_t *count)
{
	size_t i = 0, n = 0;

	while (i < cfg->n_maps && strcmp(cfg->maps[i].label, label) != 0)
		i++;
	while (i + n < cfg->n_maps && strcmp(cfg->maps[i + n].label, label) == 0)
		n++;
	if (count != NULL)
		*count = n;
	return n > 0 ? &cfg->maps[i] : NULL;
}

const struct cv_aaa_list *
cv_config_aaa_list(const struct cv_config *cfg, const char *name)
{
	return CFG_FIND(struct cv_aaa_list, cfg->aaa_lists, cfg->n_aaa_lists, name);
}

const struct cv_aaa_server *
cv_config_aaa_server(const struct cv_config *cfg, const char *name)
{
	return CFG_FIND(struct cv_aaa_server, cfg->aaa_servers, cfg->n_aaa_servers, name);
}

const struct cv_aaa_attr_list *
cv_config_aaa_attr_list(const struct cv_config *cfg, const char *name)
{
	return CFG_FIND(struct cv_aaa_attr_list, cfg->aaa_attr_lists, cfg->n_aaa_attr_lists, name);
}

static const char *const subject_field_names[] = {
    "all",        "commonname",       "country",      "email",
    "ipaddress",  "locality",         "organization", "organizationalunit",
    "postalcode", "serialnumber",     "state",        "streetaddress",
    "title",      "unstructuredname",
};

const char *
cv_subject_field_name(enum cv_subject_field f)
{
	if ((size_t)f < CV_ARRAY_LEN(subject_field_names))
		return subject_field_names[f];
	return "?";
}

static const char *const map_field_names[] = {
    "alt-subject-name",
    "expires-on",
    "issuer-name",
    "name",
    "serial-number",
    "subject-name",
    "unstructured-subject-name",
    "valid-start",
};

const char *
cv_map_field_name(enum cv_map_field f)
{
	if ((size_t)f < CV_ARRAY_LEN(map_field_names))
		return map_field_names[f];
	return "?";
}

const char *
cv_map_op_name(enum cv_map_op op)
{
	static const char *const names[] = {"eq", "ne", "co", "nc", "lt", "ge"};

	if ((size_t)op < CV_ARRAY_LEN(names))
		return names[op];
	return "?";
}

const char *
cv_nonce_policy_name(enum cv_nonce_policy n)
{
	switch (n) {
	case CV_NONCE_REQUIRE:
		return "require";
	case CV_NONCE_IF_ECHOED:
		return "if-echoed";
	case CV_NONCE_DISABLED:
		return "disabled";
	}
	return "?";
}

static const char *const http_cert_format_names[] = {
    [CV_HTTP_CERT_NGINX] = "nginx",
    [CV_HTTP_CERT_ENVOY] = "envoy",
    [CV_HTTP_CERT_TRAEFIK] = "traefik",
    [CV_HTTP_CERT_CADDY] = "caddy",
};

_Static_assert(CV_ARRAY_LEN(http_cert_format_names) == CV_HTTP_CERT_FORMATS,
               "a client-certificate format without its name");

const char *
cv_http_cert_format_name(enum cv_http_cert_format f)
{
	return (size_t)f < CV_HTTP_CERT_FORMATS ? http_cert_format_names[f] : "?";
}

int
cv_http_cert_format_from_name(const char *name, enum cv_http_cert_format *out)
{
	for (size_t i = 0; name != NULL && i < CV_HTTP_CERT_FORMATS; i++) {
		if (cv_strcasecmp(name, http_cert_format_names[i]) == 0) {
			*out = (enum cv_http_cert_format)i;
			return 0;
		}
	}
	return -1;
}
