/*
 * config_parse.c: the table-driven parser of the IOS-style configuration language.
 *
 * Each mode (global, trustpoint, trustpool policy, certificate map, AAA attribute list, AAA
 * server groups) has one command table. A line's keywords are matched word by word against the
 * table, case-insensitively, accepting any unique prefix as IOS does ("auth user subj"); the
 * table then says how the arguments are stored. The same tables produce the "expected one of"
 * lists of the error messages and drive config_dump.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/util.h"
#include "../validator/path.h"
#include "revocation.h"
#include "config.h"
#include "config_impl.h"

#define LINE_LEN_MAX  4096 /* characters in one line */
#define LINE_ARGS_MAX 64   /* words in one line */
#define LABEL_LEN_MAX 63   /* trustpoint, map, list and group names (CV_LABEL_MAX - 1) */
#define TABLE_MAX     96   /* entries in one command table */

enum pmode {
	M_GLOBAL,
	M_TRUSTPOINT,
	M_TRUSTPOOL,
	M_MAP,
	M_ATTR_LIST,
	M_RADIUS,
	M_LDAP,
	M_CHAIN,
	M_SKIP /* the indented lines under a router command (CFG_ROUTER) */
};

struct cfg_parser {
	struct cv_config *cfg;
	const char *name; /* for messages */
	char dir[1024];   /* relative input files are resolved here; "" keeps them as written */
	unsigned line;
	struct cv_error *err;
	enum pmode mode;
	size_t idx; /* the current block's object */

	struct cfg_chain *chains;
	size_t n_chains;
	bool in_hex;   /* inside `certificate ... quit` */
	bool hex_keep; /* a CA certificate (kept) or another one (skipped) */
	char *hex;
	size_t hex_len, hex_cap;
	unsigned cert_line;
	char cert_serial[CV_SERIAL_MAX];
};

/* ---- messages ---- */

static int perr(struct cfg_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(struct cfg_parser *p, const char *fmt, ...)
{
	char msg[CV_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cv_error_set(p->err, "%s:%u: %s", p->name, p->line, msg);
	return -1;
}

static int
oom(struct cfg_parser *p)
{
	return perr(p, "out of memory");
}

/* "crl-cache delete-after": the canonical keywords of a command. */
static void
cmd_name(const struct cfg_cmd *cmd, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < CFG_WORDS_MAX && cmd->w[i] != NULL; i++) {
		if (i > 0)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, cmd->w[i], size - strlen(buf) - 1);
	}
}

static void
list_append(char *buf, size_t size, const char *word)
{
	if (buf[0] != '\0')
		strncat(buf, ", ", size - strlen(buf) - 1);
	strncat(buf, word, size - strlen(buf) - 1);
}

/* ---- keyword matching: exact, else a unique case-insensitive prefix ---- */

static bool
is_prefix(const char *tok, const char *word)
{
	size_t n = strlen(tok);

	return n > 0 && strlen(word) >= n && strncasecmp(tok, word, n) == 0;
}

/* Index of tok among words, -1 when unknown, -2 when ambiguous. */
static int
kw_match(const char *tok, const char *const *words, size_t n)
{
	int found = -1;

	for (size_t i = 0; i < n; i++)
		if (cv_strcasecmp(tok, words[i]) == 0)
			return (int)i;
	for (size_t i = 0; i < n; i++) {
		if (!is_prefix(tok, words[i]))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

static void
kw_list(const char *const *words, size_t n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		list_append(buf, size, words[i]);
}

/* Matches an argument against a keyword set, with the error message on failure. */
static int
kw_arg(struct cfg_parser *p, const char *what, const char *tok, const char *const *words, size_t n)
{
	char list[400];
	int i = kw_match(tok, words, n);

	if (i >= 0)
		return i;
	kw_list(words, n, list, sizeof(list));
	perr(p, "%s: %s '%s'; expected one of: %s", what, i == -2 ? "ambiguous" : "unknown", tok,
	     list);
	return -1;
}

static bool
listed(const struct cfg_cmd *cmd, size_t pos, bool all)
{
	return all || ((pos > 0 || !(cmd->flags & CFG_LEGACY)) && cmd->kind != CFG_IGNORE);
}

/* The distinct keywords at pos among the candidates, for "expected one of". */
static void
expected_words(const struct cfg_mode *m, const unsigned char *cand, size_t pos, char *buf,
               size_t size)
{
	buf[0] = '\0';
	for (int pass = 0; pass < 2 && buf[0] == '\0'; pass++) {
		for (size_t i = 0; i < m->n_cmds; i++) {
			const char *w = m->cmds[i].w[pos];
			bool dup = false;

			if (!cand[i] || w == NULL || !listed(&m->cmds[i], pos, pass == 1))
				continue;
			for (size_t j = 0; j < i && !dup; j++)
				dup = cand[j] && m->cmds[j].w[pos] != NULL &&
				      listed(&m->cmds[j], pos, pass == 1) &&
				      cv_strcasecmp(m->cmds[j].w[pos], w) == 0;
			if (!dup)
				list_append(buf, size, w);
		}
	}
}

static void
typed_words(char **argv, size_t n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, argv[i], size - strlen(buf) - 1);
	}
}

/* Finds the command of a line; *nw is the number of keyword words it consumed. */
static int
find_cmd(struct cfg_parser *p, const struct cfg_mode *m, char **argv, size_t argc,
         const struct cfg_cmd **out, size_t *nw)
{
	unsigned char cand[TABLE_MAX];
	char list[400], typed[200];

	for (size_t i = 0; i < m->n_cmds; i++)
		cand[i] = 1;
	for (size_t pos = 0;; pos++) {
		const struct cfg_cmd *ended = NULL;
		const char *word = NULL;
		bool longer = false, ambiguous = false;

		for (size_t i = 0; i < m->n_cmds; i++) {
			if (!cand[i])
				continue;
			if (pos >= CFG_WORDS_MAX || m->cmds[i].w[pos] == NULL)
				ended = ended != NULL ? ended : &m->cmds[i];
			else
				longer = true;
		}
		if (!longer || (pos >= argc && ended != NULL)) {
			*out = ended;
			*nw = pos;
			return 0;
		}
		typed_words(argv, pos < argc ? pos + 1 : argc, typed, sizeof(typed));
		if (pos >= argc) {
			expected_words(m, cand, pos, list, sizeof(list));
			return perr(p,
			            "incomplete command '%s' in %s mode; expected '%s' followed by "
			            "one of: %s",
			            typed, m->name, typed, list);
		}
		for (size_t i = 0; i < m->n_cmds && word == NULL; i++)
			if (cand[i] && m->cmds[i].w[pos] != NULL &&
			    cv_strcasecmp(m->cmds[i].w[pos], argv[pos]) == 0)
				word = m->cmds[i].w[pos];
		for (size_t i = 0; i < m->n_cmds && word == NULL; i++) {
			/* no exact match: the prefix must name one keyword */
			const char *w = cand[i] ? m->cmds[i].w[pos] : NULL;

			if (w == NULL || !is_prefix(argv[pos], w))
				continue;
			for (size_t j = i + 1; j < m->n_cmds; j++)
				if (cand[j] && m->cmds[j].w[pos] != NULL &&
				    is_prefix(argv[pos], m->cmds[j].w[pos]) &&
				    cv_strcasecmp(m->cmds[j].w[pos], w) != 0)
					ambiguous = true;
			word = w;
		}
		if (ambiguous) {
			for (size_t i = 0; i < m->n_cmds; i++)
				cand[i] = cand[i] && m->cmds[i].w[pos] != NULL &&
				          is_prefix(argv[pos], m->cmds[i].w[pos]);
			expected_words(m, cand, pos, list, sizeof(list));
			return perr(p, "ambiguous command '%s' in %s mode; expected one of: %s",
			            typed, m->name, list);
		}
		if (word == NULL) {
			if (ended != NULL) {
				*out = ended;
				*nw = pos;
				return 0;
			}
			expected_words(m, cand, pos, list, sizeof(list));
			if (pos == 0)
				return perr(p,
				            "unknown command '%s' in %s mode; expected one of: %s",
				            typed, m->name, list);
			typed_words(argv, pos, typed, sizeof(typed));
			return perr(p,
			            "unknown command '%s %s' in %s mode; expected '%s' followed by "
			            "one of: %s",
			            typed, argv[pos], m->name, typed, list);
		}
		for (size_t i = 0; i < m->n_cmds; i++)
			cand[i] = cand[i] && m->cmds[i].w[pos] != NULL &&
			          cv_strcasecmp(m->cmds[i].w[pos], word) == 0;
	}
}

/* ---- argument helpers ---- */

static int
set_str(struct cfg_parser *p, char **field, const char *value)
{
	char *v = strdup(value);

	if (v == NULL)
		return oom(p);
	free(*field);
	*field = v;
	return 0;
}

/* The arguments joined by single spaces; malloc'd. */
static char *
join(char **argv, size_t argc)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int
parse_num(struct cfg_parser *p, const char *what, const char *tok, unsigned long long min,
          unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	char *end;

	if (!isdigit((unsigned char)tok[0]))
		return perr(p, "%s: '%s' is not a number; expected %llu-%llu", what, tok, min, max);
	errno = 0;
	v = strtoull(tok, &end, 10);
	if (*end != '\0')
		return perr(p, "%s: '%s' is not a number; expected %llu-%llu", what, tok, min, max);
	if (errno == ERANGE || v < min || v > max)
		return perr(p, "%s: %s is out of range %llu-%llu", what, tok, min, max);
	*out = v;
	return 0;
}

static int
check_name(struct cfg_parser *p, const char *what, const char *name)
{
	if (strlen(name) > LABEL_LEN_MAX)
		return perr(p, "%s: name '%s' is longer than %d characters", what, name,
		            LABEL_LEN_MAX);
	return 0;
}

static bool
has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(url, scheme, n) == 0 && url[n] != '\0';
}

/* The host part of scheme://host[:port][/...] is present; an IPv6 host is bracketed. */
static bool
url_host_ok(const char *url)
{
	const char *h = strstr(url, "://");

	if (h == NULL)
		return false;
	h += 3;
	if (*h == '[') {
		const char *close = strchr(h, ']');

		return close != NULL && close > h + 1 &&
		       (close[1] == '\0' || close[1] == ':' || close[1] == '/');
	}
	return *h != '\0' && *h != '/' && *h != ':' && strchr(h, ' ') == NULL;
}

/*
 * Credentials in the userinfo of a URL (RFC 3986 3.2.1) are sent by libcurl, hidden by `show
 * running-config`, but the URL itself also travels into verdicts, views and logs: a warning
 * says so. Only the proxy's URL stays inside the fetcher.
 */
static void
warn_credentials(struct cfg_parser *p, const char *what, const char *url)
{
	const char *h = strstr(url, "://");

	if (h != NULL && strcspn(h + 3, "@") < strcspn(h + 3, "/?#"))
		cv_config_warn(
		    p->cfg, p->line,
		    "%s: the URL has credentials; verdicts, logs and the administrator's "
		    "views other than running-config show them",
		    what);
}

static int
check_url(struct cfg_parser *p, const char *what, const char *url, enum cfg_check check)
{
	bool ok;
	const char *want;

	switch (check) {
	case CFG_URL_HTTP:
		ok = has_scheme(url, "http://") || has_scheme(url, "https://");
		want = "an http:// or https:// URL";
		break;
	case CFG_URL_LDAP:
		ok = has_scheme(url, "ldap://");
		want = "an ldap:// URL";
		break;
	case CFG_URL_LDAPS:
		ok = has_scheme(url, "ldap://") || has_scheme(url, "ldaps://");
		want = "an ldap:// or ldaps:// URL";
		break;
	case CFG_URL_PROXY:
		ok = has_scheme(url, "http://") || has_scheme(url, "https://") ||
		     has_scheme(url, "socks4://") || has_scheme(url, "socks5://");
		want = "an http://, https://, socks4:// or socks5:// URL";
		break;
	default:
		return 0;
	}
	if (!ok || !url_host_ok(url))
		return perr(p, "%s: '%s' is not %s", what, url, want);
	if (check != CFG_URL_PROXY)
		warn_credentials(p, what, url);
	return 0;
}

/* A relative input file is read from the configuration file's directory. */
static int
resolve_path(struct cfg_parser *p, const char *what, const char *path, char *buf, size_t size)
{
	int n;

	if (path[0] == '\0')
		return perr(p, "%s: empty path", what);
	if (path[0] == '/' || p->dir[0] == '\0')
		n = snprintf(buf, size, "%s", path);
	else
		n = snprintf(buf, size, "%s/%s", p->dir, path);
	if (n < 0 || (size_t)n >= size)
		return perr(p, "%s: path too long", what);
	return 0;
}

static int
push_str(struct cfg_parser *p, char ***v, size_t *n, const char *value)
{
	char **nv;
	char *s = strdup(value);

	if (s == NULL)
		return oom(p);
	nv = cv_config_grow(*v, n, sizeof(char *));
	if (nv == NULL) {
		free(s);
		return oom(p);
	}
	*v = nv;
	nv[*n - 1] = s;
	return 0;
}

#define FIELD(obj, cmd, type) ((type *)((char *)(obj) + (cmd)->off))

/*
 * Opens a named block (trustpoint, certificate chain, attribute list, server group): the
 * element called name in the vector v of *n elements of elsize bytes, each with a char *name at
 * name_off and an unsigned line at line_off, else a new zeroed one appended with that name and
 * the current line (*added, which may be NULL). p->idx becomes its index. Returns the vector,
 * which may have moved, or NULL (v unchanged) on error.
 */
static void *
open_block(struct cfg_parser *p, const char *what, const char *name, void *v, size_t *n,
           size_t elsize, size_t name_off, size_t line_off, bool *added)
{
	char *e, *s;

	if (added != NULL)
		*added = false;
	if (check_name(p, what, name) < 0)
		return NULL;
	if ((e = cv_config_find(v, *n, elsize, name_off, name)) != NULL) {
		p->idx = (size_t)(e - (char *)v) / elsize;
		return v;
	}
	if ((s = strdup(name)) == NULL || (e = cv_config_grow(v, n, elsize)) == NULL) {
		free(s);
		oom(p);
		return NULL;
	}
	p->idx = *n - 1;
	*(char **)(e + p->idx * elsize + name_off) = s;
	*(unsigned *)(e + p->idx * elsize + line_off) = p->line;
	if (added != NULL)
		*added = true;
	return e;
}

#define OPEN_BLOCK(p, what, type, vec, n, key, added)                                              \
	((type *)open_block((p), (what), (key), (vec), &(n), sizeof(type), offsetof(type, name),   \
	                    offsetof(type, line), (added)))

/* ---- global mode ---- */

static int
h_socket_mode(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;
	unsigned long v;
	char *end;

	if (strspn(argv[0], "01234567") != strlen(argv[0]) || strlen(argv[0]) > 4)
		return perr(p, "socket-mode: '%s' is not an octal mode; expected 0000-0777",
		            argv[0]);
	v = strtoul(argv[0], &end, 8);
	if (v > 0777)
		return perr(p, "socket-mode: %s is out of range 0000-0777", argv[0]);
	cfg->socket_mode = (unsigned)v;
	return 0;
}

static int
parse_int(struct cfg_parser *p, const char *what, const char *tok, int min, int max, int *out)
{
	unsigned long long v = 0;
	bool neg = tok[0] == '-';

	if (tok[0] == '+' || tok[0] == '-')
		tok++;
	if (parse_num(p, what, tok, 0, (unsigned long long)(neg ? -(long long)min : max), &v) < 0)
		return -1;
	*out = neg ? -(int)v : (int)v;
	return 0;
}

static int
h_timezone(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;
	int hours, minutes = 0;

	if (parse_int(p, "clock timezone HOURS", argv[1], -23, 23, &hours) < 0)
		return -1;
	if (argc > 2 && parse_int(p, "clock timezone MINUTES", argv[2], 0, 59, &minutes) < 0)
		return -1;
	if (set_str(p, &cfg->tz_name, argv[0]) < 0)
		return -1;
	cfg->tz_offset_min = hours * 60 + (argv[1][0] == '-' ? -minutes : minutes);
	return 0;
}

static int
h_trustpoint(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;
	bool added;
	struct cv_trustpoint *v = OPEN_BLOCK(p, "trustpoint", struct cv_trustpoint,
	                                     cfg->trustpoints, cfg->n_trustpoints, argv[0], &added);

	if (v == NULL)
		return -1;
	cfg->trustpoints = v;
	if (added)
		cv_trustpoint_init(&v[p->idx]);
	p->mode = M_TRUSTPOINT;
	return 0;
}

static int
h_chain(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cfg_chain *v = OPEN_BLOCK(p, "certificate chain", struct cfg_chain, p->chains,
	                                 p->n_chains, argv[0], NULL);

	if (v == NULL)
		return -1;
	p->chains = v;
	p->mode = M_CHAIN;
	return 0;
}

static int
h_map(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;
	struct cv_map_entry *v;
	unsigned long long seq;

	if (check_name(p, "certificate map", argv[0]) < 0 ||
	    parse_num(p, "crypto pki certificate map SEQ", argv[1], 1, 65535, &seq) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_maps; i++)
		if (strcmp(cfg->maps[i].label, argv[0]) == 0 && cfg->maps[i].seq == seq)
			return perr(p,
			            "crypto pki certificate map %s %llu is defined twice (first at "
			            "line %u)",
			            argv[0], seq, cfg->maps[i].line);
	v = cv_config_grow(cfg->maps, &cfg->n_maps, sizeof(*v));
	if (v == NULL)
		return oom(p);
	cfg->maps = v;
	p->idx = cfg->n_maps - 1;
	v[p->idx].seq = (unsigned)seq;
	v[p->idx].line = p->line;
	if ((v[p->idx].label = strdup(argv[0])) == NULL)
		return oom(p);
	p->mode = M_MAP;
	return 0;
}

static int
h_trustpool(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;

	if (!cfg->trustpool.present)
		cfg->trustpool.line = p->line;
	cfg->trustpool.present = true;
	p->mode = M_TRUSTPOOL;
	return 0;
}

static int
h_attr_list(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;
	struct cv_aaa_attr_list *v =
	    OPEN_BLOCK(p, "aaa attribute list", struct cv_aaa_attr_list, cfg->aaa_attr_lists,
	               cfg->n_aaa_attr_lists, argv[0], NULL);

	if (v == NULL)
		return -1;
	cfg->aaa_attr_lists = v;
	p->mode = M_ATTR_LIST;
	return 0;
}

static int
h_server_group(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;
	enum cv_aaa_server_kind kind =
	    cv_strcasecmp(cmd->w[3], "radius") == 0 ? CV_AAA_SERVER_RADIUS : CV_AAA_SERVER_LDAP;
	bool added;
	struct cv_aaa_server *v = OPEN_BLOCK(p, "aaa group server", struct cv_aaa_server,
	                                     cfg->aaa_servers, cfg->n_aaa_servers, argv[0], &added);
	struct cv_aaa_server *s;

	if (v == NULL)
		return -1;
	cfg->aaa_servers = v;
	s = &v[p->idx];
	if (!added && s->kind != kind)
		return perr(p, "aaa group server: %s is already a %s group (line %u)", argv[0],
		            s->kind == CV_AAA_SERVER_RADIUS ? "radius" : "ldap", s->line);
	if (added) {
		s->kind = kind;
		s->port = 1812;
		s->timeout_s = 5;
		if (kind == CV_AAA_SERVER_LDAP && (s->attribute = strdup("ciscoAVPair")) == NULL)
			return oom(p);
	}
	p->mode = kind == CV_AAA_SERVER_RADIUS ? M_RADIUS : M_LDAP;
	return 0;
}

static int
h_aaa_list(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	static const char *const kinds[] = {"group", "local"};
	struct cv_config *cfg = obj;
	struct cv_aaa_list l = {.line = p->line}, *o, *v;
	size_t i;

	if (check_name(p, "aaa authorization list", argv[0]) < 0)
		return -1;
	for (i = 1; i < argc; i++) {
		int k = kw_arg(p, "aaa authorization list METHOD", argv[i], kinds, 2);

		if (k < 0)
			goto fail;
		if (l.n_methods == CV_AAA_METHODS_MAX) {
			perr(p, "aaa authorization list: more than %d methods", CV_AAA_METHODS_MAX);
			goto fail;
		}
		l.methods[l.n_methods].kind = k == 0 ? CV_AAA_METHOD_GROUP : CV_AAA_METHOD_LOCAL;
		if (k == 0) {
			if (i + 1 >= argc) {
				perr(p, "aaa authorization list: 'group' needs a server group "
				        "name; expected group NAME");
				goto fail;
			}
			l.methods[l.n_methods].group = strdup(argv[++i]);
			if (l.methods[l.n_methods].group == NULL) {
				oom(p);
				goto fail;
			}
		}
		l.n_methods++;
	}
	if ((l.name = strdup(argv[0])) == NULL) {
		oom(p);
		goto fail;
	}
	o = CFG_FIND(struct cv_aaa_list, cfg->aaa_lists, cfg->n_aaa_lists, argv[0]);
	if (o == NULL) {
		v = cv_config_grow(cfg->aaa_lists, &cfg->n_aaa_lists, sizeof(*v));
		if (v == NULL) {
			oom(p);
			goto fail;
		}
		cfg->aaa_lists = v;
		o = &v[cfg->n_aaa_lists - 1];
	} else {
		/* a list defined again replaces the earlier definition, as in IOS */
		cv_aaa_list_clear(o);
	}
	*o = l;
	return 0;
fail:
	cv_aaa_list_clear(&l);
	return -1;
}

/* ---- trustpoint and trustpool mode ---- */

/* Adds the certificates of the file argument to list; path gets the file's resolved name. */
static int
load_certs(struct cfg_parser *p, const char *what, const char *arg, struct cv_cert_list *list,
           char *path, size_t size)
{
	struct cv_error e;

	if (resolve_path(p, what, arg, path, size) < 0)
		return -1;
	if (cv_cert_list_load_file(list, path, &e) < 0)
		return perr(p, "%s: %s", what, e.msg);
	return 0;
}

static int
h_ca_certificate(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                 size_t argc)
{
	struct cv_trustpoint *tp = obj;
	struct cv_cert_list list = {0};
	char path[1200];

	if (load_certs(p, "ca-certificate", argv[0], &list, path, sizeof(path)) < 0 ||
	    set_str(p, &tp->ca_cert_path, path) < 0) {
		cv_cert_list_free(&list);
		return -1;
	}
	cv_cert_list_free(&tp->ca_certs);
	tp->ca_certs = list;
	tp->ca_cert_line = p->line;
	return 0;
}

static int
h_fingerprint(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_trustpoint *tp = obj;
	char hex[130];
	size_t n = 0;

	for (size_t i = 0; i < argc; i++) {
		for (const char *s = argv[i]; *s != '\0'; s++) {
			if (*s == ':')
				continue;
			if (!isxdigit((unsigned char)*s))
				return perr(p,
				            "fingerprint: '%c' is not a hex digit; expected the "
				            "MD5, SHA-1 or SHA-256 hex of the CA certificate",
				            *s);
			if (n + 1 >= sizeof(hex))
				return perr(
				    p, "fingerprint: too long; expected 32, 40 or 64 hex digits");
			hex[n++] = (char)toupper((unsigned char)*s);
		}
	}
	hex[n] = '\0';
	if (n != 32 && n != 40 && n != 64)
		return perr(
		    p, "fingerprint: %zu hex digits; expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256)",
		    n);
	return set_str(p, &tp->fingerprint, hex);
}

static int
h_primary(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_trustpoint *tp = obj;

	for (size_t i = 0; i < p->cfg->n_trustpoints; i++) {
		struct cv_trustpoint *o = &p->cfg->trustpoints[i];

		if (o != tp && o->primary) {
			o->primary = false;
			cv_config_warn(p->cfg, p->line,
			               "primary moved from trustpoint %s to trustpoint %s", o->name,
			               tp->name);
		}
	}
	tp->primary = true;
	return 0;
}

/* The alternatives of one position, "crl|ocsp|none", from the method table. */
static void
revcheck_alternatives(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cv_rev_method_count() && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i > 0 ? "|" : "",
		                        cv_rev_method_at(i)->name);
}

/* "crl|ocsp|none [crl|ocsp|none [crl|ocsp|none]]": each method of the table at most once. */
static void
revcheck_syntax(char *buf, size_t size)
{
	const size_t n = cv_rev_method_count();
	char alt[CV_REV_METHODS_MAX * 16];
	size_t len = 0;

	revcheck_alternatives(alt, sizeof(alt));
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i > 0 ? " [" : "", alt);
	for (size_t i = 1; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "]");
}

/* The method named by tok (a unique prefix, as keywords), or NULL with the error given. */
static const struct cv_rev_method *
revcheck_method(struct cfg_parser *p, const char *tok)
{
	const char *names[CV_REV_METHODS_MAX];
	const size_t n = cv_rev_method_count();
	int k;

	for (size_t i = 0; i < n; i++)
		names[i] = cv_rev_method_at(i)->name;
	k = kw_arg(p, "revocation-check", tok, names, n);
	return k < 0 ? NULL : cv_rev_method_at((size_t)k);
}

static int
h_revcheck(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	const struct cv_rev_method *m[CV_REV_METHODS_MAX];
	char syntax[CV_REV_METHODS_MAX * 64];

	if (argc == 0 || argc > cv_rev_method_count()) {
		revcheck_syntax(syntax, sizeof(syntax));
		if (argc == 0)
			return perr(
			    p, "revocation-check: missing argument; expected revocation-check %s",
			    syntax);
		return perr(p, "revocation-check: unexpected '%s'; expected revocation-check %s",
		            argv[cv_rev_method_count()], syntax);
	}
	for (size_t i = 0; i < argc; i++) {
		m[i] = revcheck_method(p, argv[i]);
		if (m[i] == NULL)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (m[j] == m[i])
				return perr(p, "revocation-check: '%s' is listed twice",
				            m[i]->name);
		if (i > 0 && m[i - 1]->must_be_last)
			return perr(p, "revocation-check: '%s' must be the last method",
			            m[i - 1]->name);
	}
	memcpy(rev->methods, m, argc * sizeof(m[0]));
	rev->n_methods = argc;
	return 0;
}

static int
h_crl_optional(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	rev->methods[0] = cv_rev_method_find("none");
	rev->n_methods = 1;
	return 0;
}

static int
h_crl_best_effort(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                  size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	rev->methods[0] = cv_rev_method_find("crl");
	rev->methods[1] = cv_rev_method_find("none");
	rev->n_methods = 2;
	return 0;
}

static int
h_crl_file(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	char path[1200];

	if (resolve_path(p, "crl file", argv[0], path, sizeof(path)) < 0)
		return -1;
	return push_str(p, &rev->crl_files, &rev->n_crl_files, path);
}

static int
h_crl_cache_none(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                 size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (rev->crl_cache == CV_CRL_CACHE_DELETE_AFTER)
		cv_config_warn(
		    p->cfg, p->line,
		    "crl-cache none replaces crl-cache delete-after %u (the last one wins)",
		    rev->crl_delete_after_min);
	rev->crl_cache = CV_CRL_CACHE_NONE;
	rev->crl_delete_after_min = 0;
	return 0;
}

static int
h_crl_cache_delete(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                   size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	unsigned long long v = 0;

	if (parse_num(p, "crl-cache delete-after", argv[0], 1, 43200, &v) < 0)
		return -1;
	if (rev->crl_cache == CV_CRL_CACHE_NONE)
		cv_config_warn(
		    p->cfg, p->line,
		    "crl-cache delete-after %llu replaces crl-cache none (the last one wins)", v);
	rev->crl_cache = CV_CRL_CACHE_DELETE_AFTER;
	rev->crl_delete_after_min = (unsigned)v;
	return 0;
}

/* crl refresh-window PERCENT% | SECONDS: the window before expiry where a refresh may start. */
static int
h_crl_refresh_window(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                     size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	const size_t len = strlen(argv[0]);
	unsigned long long v = 0;
	char num[24];

	if (len > 1 && len < sizeof(num) && argv[0][len - 1] == '%') {
		memcpy(num, argv[0], len - 1);
		num[len - 1] = '\0';
		if (parse_num(p, "crl refresh-window PERCENT%", num, 1, 100, &v) < 0)
			return -1;
		rev->crl_refresh_pct = (unsigned)v;
		rev->crl_refresh_s = 0;
		return 0;
	}
	if (parse_num(p, "crl refresh-window SECONDS", argv[0], 1, 30 * 86400, &v) < 0)
		return -1;
	rev->crl_refresh_s = (unsigned)v;
	return 0;
}

static int
h_nonce(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (cv_strcasecmp(cmd->w[1], "disable-nonce") == 0)
		rev->nonce = CV_NONCE_DISABLED;
	else if (cv_strcasecmp(cmd->w[2], "if-echoed") == 0)
		rev->nonce = CV_NONCE_IF_ECHOED;
	else
		rev->nonce = CV_NONCE_REQUIRE;
	return 0;
}

static int
h_ocsp_cache(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	unsigned long long v = 0;

	if (parse_num(p, "ocsp cache-lifetime", argv[0], 0, 86400, &v) < 0)
		return -1;
	rev->ocsp_cache_s = (int)v;
	return 0;
}

/* override ocsp [trustpoint TP [TP...]] SEQ url URL */
static int
parse_override_ocsp(struct cfg_parser *p, struct cv_match_rule *m, char **argv, size_t argc)
{
	static const char *const tp_kw[] = {"trustpoint"};
	static const char *const url_kw[] = {"url"};
	const char *syntax =
	    "expected match certificate LABEL override ocsp [trustpoint TP...] SEQ url URL";
	unsigned long long seq;
	size_t i = 0;

	if (argc > 0 && !isdigit((unsigned char)argv[0][0])) {
		if (kw_arg(p, "match certificate override ocsp", argv[0], tp_kw, 1) < 0)
			return -1;
		for (i = 1; i < argc && !isdigit((unsigned char)argv[i][0]); i++) {
			if (m->n_ocsp_trustpoints == CV_OVERRIDE_TP_MAX)
				return perr(
				    p, "match certificate override ocsp: more than %d trustpoints",
				    CV_OVERRIDE_TP_MAX);
			if ((m->ocsp_trustpoints[m->n_ocsp_trustpoints] = strdup(argv[i])) == NULL)
				return oom(p);
			m->n_ocsp_trustpoints++;
		}
		if (m->n_ocsp_trustpoints == 0)
			return perr(p,
			            "match certificate override ocsp trustpoint: missing "
			            "trustpoint name; %s",
			            syntax);
	}
	if (i + 3 != argc)
		return perr(p, "match certificate override ocsp: wrong number of arguments; %s",
		            syntax);
	if (parse_num(p, "match certificate override ocsp SEQ", argv[i], 1, 65535, &seq) < 0 ||
	    kw_arg(p, "match certificate override ocsp", argv[i + 1], url_kw, 1) < 0 ||
	    check_url(p, "match certificate override ocsp url", argv[i + 2], CFG_URL_HTTP) < 0)
		return -1;
	m->ocsp_seq = (unsigned)seq;
	if ((m->ocsp_url = strdup(argv[i + 2])) == NULL)
		return oom(p);
	return 0;
}

static int
parse_match(struct cfg_parser *p, struct cv_match_rule *m, char **argv, size_t argc)
{
	static const char *const mods[] = {"allow", "skip", "override"};
	static const char *const allow_kw[] = {"expired-certificate"};
	static const char *const skip_kw[] = {"revocation-check", "authorization-check"};
	static const char *const over_kw[] = {"cdp", "ocsp"};
	static const char *const cdp_kw[] = {"url", "directory"};
	int k;

	if (check_name(p, "match certificate", argv[0]) < 0)
		return -1;
	if ((m->label = strdup(argv[0])) == NULL)
		return oom(p);
	m->kind = CV_MATCH_ACL;
	if (argc == 1)
		return 0;
	if ((k = kw_arg(p, "match certificate LABEL", argv[1], mods, 3)) < 0)
		return -1;
	if (k == 0 || k == 1) {
		if (argc != 3)
			return perr(p,
			            "match certificate %s: %s; expected match certificate LABEL %s",
			            mods[k], argc < 3 ? "missing argument" : "too many arguments",
			            k == 0 ? "allow expired-certificate"
			                   : "skip revocation-check|authorization-check");
		if (k == 0) {
			if (kw_arg(p, "match certificate allow", argv[2], allow_kw, 1) < 0)
				return -1;
			m->kind = CV_MATCH_ALLOW_EXPIRED;
			return 0;
		}
		if ((k = kw_arg(p, "match certificate skip", argv[2], skip_kw, 2)) < 0)
			return -1;
		m->kind = k == 0 ? CV_MATCH_SKIP_REVOCATION : CV_MATCH_SKIP_AUTHORIZATION;
		return 0;
	}
	if (argc < 3)
		return perr(p, "match certificate override: missing argument; expected match "
		               "certificate LABEL override cdp|ocsp ...");
	if ((k = kw_arg(p, "match certificate override", argv[2], over_kw, 2)) < 0)
		return -1;
	if (k == 1) {
		m->kind = CV_MATCH_OVERRIDE_OCSP;
		return parse_override_ocsp(p, m, argv + 3, argc - 3);
	}
	m->kind = CV_MATCH_OVERRIDE_CDP;
	if (argc < 5)
		return perr(p, "match certificate override cdp: missing argument; expected match "
		               "certificate LABEL override cdp url URL|directory DN");
	if ((k = kw_arg(p, "match certificate override cdp", argv[3], cdp_kw, 2)) < 0)
		return -1;
	m->cdp_is_directory = k == 1;
	if (k == 0) {
		if (argc > 5)
			return perr(
			    p,
			    "match certificate override cdp url: unexpected '%s'; expected one URL",
			    argv[5]);
		if (!has_scheme(argv[4], "http://") && !has_scheme(argv[4], "https://") &&
		    !has_scheme(argv[4], "ldap://"))
			return perr(p,
			            "match certificate override cdp url: '%s' is not an http://, "
			            "https:// or ldap:// URL",
			            argv[4]);
		if (!url_host_ok(argv[4]))
			return perr(p, "match certificate override cdp url: '%s' has no host",
			            argv[4]);
		warn_credentials(p, "match certificate override cdp url", argv[4]);
	}
	if ((m->cdp = join(argv + 4, argc - 4)) == NULL)
		return oom(p);
	return 0;
}

/* Adds a rule: plain rules in order, then OCSP overrides sorted by SEQ (R27). */
static int
add_match(struct cfg_parser *p, struct cv_rev_settings *rev, struct cv_match_rule *m)
{
	struct cv_match_rule *v;
	size_t first_ocsp = 0, at;

	while (first_ocsp < rev->n_matches &&
	       rev->matches[first_ocsp].kind != CV_MATCH_OVERRIDE_OCSP)
		first_ocsp++;
	for (size_t i = 0; i < rev->n_matches; i++) {
		struct cv_match_rule *o = &rev->matches[i];
		bool same = m->kind == CV_MATCH_OVERRIDE_OCSP
		                ? o->kind == CV_MATCH_OVERRIDE_OCSP && o->ocsp_seq == m->ocsp_seq
		                : o->kind == m->kind && strcmp(o->label, m->label) == 0;

		if (!same)
			continue;
		if (m->kind == CV_MATCH_OVERRIDE_OCSP)
			cv_config_warn(p->cfg, p->line,
			               "match certificate %s override ocsp %u replaces the entry "
			               "of map %s (line %u)",
			               m->label, m->ocsp_seq, o->label, o->line);
		cv_match_rule_clear(o);
		*o = *m;
		return 0;
	}
	at = first_ocsp;
	if (m->kind == CV_MATCH_OVERRIDE_OCSP)
		for (at = rev->n_matches;
		     at > first_ocsp && rev->matches[at - 1].ocsp_seq > m->ocsp_seq;)
			at--;
	v = cv_config_grow(rev->matches, &rev->n_matches, sizeof(*v));
	if (v == NULL)
		return oom(p);
	rev->matches = v;
	memmove(&v[at + 1], &v[at], (rev->n_matches - 1 - at) * sizeof(*v));
	v[at] = *m;
	return 0;
}

static int
h_match(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	struct cv_match_rule m = {.line = p->line};

	if (parse_match(p, &m, argv, argc) < 0 || add_match(p, rev, &m) < 0) {
		cv_match_rule_clear(&m);
		return -1;
	}
	return 0;
}

static int
h_chain_validation(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                   size_t argc)
{
	static const char *const kw[] = {"stop", "continue"};
	struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	int k = kw_arg(p, "chain-validation", argv[0], kw, 2);

	if (k < 0)
		return -1;
	if (k == 0 && argc > 1)
		return perr(p,
		            "chain-validation stop: unexpected '%s'; expected chain-validation "
		            "stop|continue [PARENT]",
		            argv[1]);
	if (argc > 1 && check_name(p, "chain-validation continue", argv[1]) < 0)
		return -1;
	free(rev->chain_parent);
	rev->chain_parent = NULL;
	if (argc > 1 && (rev->chain_parent = strdup(argv[1])) == NULL)
		return oom(p);
	rev->chain = k == 0 ? CV_CHAIN_STOP : CV_CHAIN_CONTINUE;
	rev->chain_line = p->line;
	return 0;
}

static int
h_authz_list(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_trustpoint *tp = obj;

	if (check_name(p, "authorization list", argv[0]) < 0 ||
	    set_str(p, &tp->authz_list, argv[0]) < 0)
		return -1;
	tp->authz_line = p->line;
	return 0;
}

static int
h_authz_username(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                 size_t argc)
{
	const char *names[CV_SUBJ_UNSTRUCTUREDNAME + 1];
	struct cv_trustpoint *tp = obj;
	int k;

	for (int i = 0; i <= CV_SUBJ_UNSTRUCTUREDNAME; i++)
		names[i] = cv_subject_field_name((enum cv_subject_field)i);
	k = kw_arg(p, "authorization username subjectname", argv[0], names, CV_ARRAY_LEN(names));
	if (k < 0)
		return -1;
	tp->authz_username = (enum cv_subject_field)k;
	return 0;
}

static int
h_weak(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	const char *names[CV_WEAK_ALG_COUNT];
	uint32_t *bits = FIELD(obj, cmd, uint32_t);
	uint32_t add = 0;

	for (unsigned i = 0; i < CV_WEAK_ALG_COUNT; i++)
		names[i] = cv_weak_alg_name(1u << i);
	for (size_t i = 0; i < argc; i++) {
		int k = kw_arg(p, "allow-weak-signature", argv[i], names, CV_ARRAY_LEN(names));

		if (k < 0)
			return -1;
		add |= 1u << k;
	}
	*bits |= add;
	return 0;
}

/* validation-profile rfc5280|webpki (validator/path.h enum cv_profile). */
static int
h_profile(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	static const enum cv_profile all[] = {CV_PROFILE_RFC5280, CV_PROFILE_WEBPKI};
	const char *names[CV_ARRAY_LEN(all)];
	int k;

	for (size_t i = 0; i < CV_ARRAY_LEN(all); i++)
		names[i] = cv_profile_name(all[i]);
	k = kw_arg(p, "validation-profile", argv[0], names, CV_ARRAY_LEN(names));
	if (k < 0)
		return -1;
	*FIELD(obj, cmd, enum cv_profile) = all[k];
	return 0;
}

/* A relaxation command (allow-cn-fallback): sets the bit cmd->def of the relaxations at off. */
static int
h_relaxation(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	*FIELD(obj, cmd, uint32_t) |= (uint32_t)cmd->def;
	return 0;
}

static int
h_policy(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_trustpoint *tp = obj;
	const char *s = argv[0];
	size_t dots = 0;

	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.' && i > 0 && s[i - 1] != '.' && s[i + 1] != '\0')
			dots++;
		else if (!isdigit((unsigned char)s[i]))
			return perr(p,
			            "policy: '%s' is not an OID; expected dotted decimal such as "
			            "2.5.29.32.0",
			            s);
	}
	if (dots == 0 || strlen(s) > 100)
		return perr(
		    p, "policy: '%s' is not an OID; expected dotted decimal such as 2.5.29.32.0",
		    s);
	for (size_t i = 0; i < tp->n_policies; i++)
		if (strcmp(tp->policies[i], s) == 0)
			return 0;
	if (tp->n_policies == CV_POLICY_OIDS_MAX)
		return perr(p, "policy: more than %d policies", CV_POLICY_OIDS_MAX);
	return push_str(p, &tp->policies, &tp->n_policies, s);
}

static int
h_bundle(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_trustpool *tpool = obj;
	char path[1200];

	if (load_certs(p, "ca-bundle", argv[0], &tpool->ca_certs, path, sizeof(path)) < 0)
		return -1;
	return push_str(p, &tpool->bundle_paths, &tpool->n_bundle_paths, path);
}

/*
 * http listen unix:PATH | IPv4:PORT | [IPv6]:PORT. The front is meant for loopback and Unix
 * sockets; another address is the administrator's explicit choice, and gets a warning.
 */
static int
h_http_listen(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_config *cfg = obj;
	const char *a = argv[0], *colon = strrchr(a, ':');
	char *end = NULL;
	unsigned long port;

	if (cfg->n_http_listen == CV_HTTP_LISTEN_MAX)
		return perr(p, "http listen: at most %d addresses", CV_HTTP_LISTEN_MAX);
	if (strncmp(a, "unix:", 5) == 0) {
		if (a[5] != '/' || strlen(a + 5) > 107)
			return perr(p,
			            "http listen: '%s': expected unix:/ABSOLUTE/PATH (at most 107 "
			            "bytes)",
			            a);
		return push_str(p, &cfg->http_listen, &cfg->n_http_listen, a);
	}
	if (colon == NULL || colon == a || colon[1] == '\0')
		return perr(
		    p, "http listen: '%s': expected unix:PATH, ADDRESS:PORT or [ADDRESS]:PORT", a);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
		return perr(p, "http listen: '%s': the port must be 1 to 65535", a);
	if ((a[0] == '[') != (colon[-1] == ']') ||
	    (a[0] != '[' && memchr(a, ':', (size_t)(colon - a)) != NULL))
		return perr(p, "http listen: '%s': an IPv6 address goes in brackets", a);
	if (strncmp(a, "127.", 4) != 0 && strncmp(a, "[::1]:", 6) != 0 &&
	    strncmp(a, "localhost:", 10) != 0)
		cv_config_warn(
		    p->cfg, p->line,
		    "http listen %s is not a loopback address: whoever reaches it can ask "
		    "for verdicts and read the metrics",
		    a);
	return push_str(p, &cfg->http_listen, &cfg->n_http_listen, a);
}

/* http client-cert-header nginx|envoy|traefik|caddy [HEADER] */
static int
h_http_cert_header(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                   size_t argc)
{
	struct cv_config *cfg = obj;
	enum cv_http_cert_format f;

	if (cv_http_cert_format_from_name(argv[0], &f) != 0)
		return perr(p,
		            "http client-cert-header: unknown format '%s'; expected one of: nginx, "
		            "envoy, traefik, caddy",
		            argv[0]);
	if (argc == 2 && (strlen(argv[1]) > 64 || strpbrk(argv[1], ":\r\n") != NULL))
		return perr(p, "http client-cert-header: '%s' is not a header name", argv[1]);
	cfg->http_cert_format = f;
	free(cfg->http_cert_header);
	cfg->http_cert_header = NULL;
	return argc == 2 ? set_str(p, &cfg->http_cert_header, argv[1]) : 0;
}

/* http trustpoint NAME: checked against the trustpoints once the file is read. */
static int
h_http_trustpoint(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                  size_t argc)
{
	struct cv_config *cfg = obj;

	if (check_name(p, "http trustpoint", argv[0]) < 0 ||
	    set_str(p, &cfg->http_trustpoint, argv[0]) < 0)
		return -1;
	cfg->http_trustpoint_line = p->line;
	return 0;
}

/* intermediate-pool PATH: CA certificates offered to path building, never trust anchors. */
static int
h_intermediate_pool(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                    size_t argc)
{
	struct cv_config *cfg = obj;
	struct cv_cert_list list = {0};
	char path[1200];

	if (load_certs(p, "intermediate-pool", argv[0], &list, path, sizeof(path)) < 0 ||
	    set_str(p, &cfg->intermediate_pool_path, path) < 0) {
		cv_cert_list_free(&list);
		return -1;
	}
	cv_cert_list_free(&cfg->intermediate_pool);
	cfg->intermediate_pool = list;
	return 0;
}

/* ---- certificate map mode ---- */

/* Names compare lower-cased, with spaces around '=' and ',' removed (R34, O-16). */
static void
normalise_name(char *s)
{
	char *d = s;

	for (const char *r = s; *r != '\0'; r++) {
		char c = (char)tolower((unsigned char)*r);

		if (c == ' ' || c == '\t') {
			const char *n = r;

			while (*n == ' ' || *n == '\t')
				n++;
			if (d == s || d[-1] == '=' || d[-1] == ',' || *n == '=' || *n == ',' ||
			    *n == '\0') {
				r = n - 1;
				continue;
			}
			r = n - 1;
			c = ' ';
		}
		*d++ = c;
	}
	*d = '\0';
}

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};

/* dd mm yyyy hh:mm:ss or mmm dd yyyy hh:mm:ss (R32), UTC. */
static int
parse_map_date(const char *const *a, size_t n, cv_time *out)
{
	int day, month = 0, year, h, mi, s;
	char extra;

	if (n != 4)
		return -1;
	if (isalpha((unsigned char)a[0][0])) {
		for (int i = 0; i < 12 && month == 0; i++)
			if (strncasecmp(a[0], month_names[i], 3) == 0)
				month = i + 1;
		if (month == 0 || sscanf(a[1], "%2d%c", &day, &extra) != 1)
			return -1;
	} else if (sscanf(a[0], "%2d%c", &day, &extra) != 1 ||
	           sscanf(a[1], "%2d%c", &month, &extra) != 1) {
		return -1;
	}
	if (strlen(a[2]) != 4 || sscanf(a[2], "%4d%c", &year, &extra) != 1 ||
	    sscanf(a[3], "%2d:%2d:%2d%c", &h, &mi, &s, &extra) != 3)
		return -1;
	return cv_time_from_utc(year, month, day, h, mi, s, out);
}

static int
h_map_line(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	static const char *const ops[] = {"eq", "ne", "co", "nc", "lt", "ge"};
	struct cv_map_entry *e = obj;
	enum cv_map_field field = (enum cv_map_field)cmd->off;
	bool date = field == CV_MAP_EXPIRES_ON || field == CV_MAP_VALID_START;
	struct cv_map_line l = {.field = field, .line = p->line};
	struct cv_map_line *v;
	int op = kw_arg(p, cmd->w[0], argv[0], ops, CV_ARRAY_LEN(ops));

	if (op < 0)
		return -1;
	l.op = (enum cv_map_op)op;
	if (date && (l.op == CV_MAP_CO || l.op == CV_MAP_NC))
		return perr(
		    p, "%s: operator '%s' does not apply to dates; expected one of: eq, ne, lt, ge",
		    cmd->w[0], ops[op]);
	if (!date && (l.op == CV_MAP_LT || l.op == CV_MAP_GE))
		return perr(
		    p, "%s: operator '%s' applies to dates only; expected one of: eq, ne, co, nc",
		    cmd->w[0], ops[op]);
	if (date) {
		char buf[CV_TIME_TEXT_MAX];

		if (parse_map_date((const char *const *)argv + 1, argc - 1, &l.date) < 0)
			return perr(
			    p, "%s: bad date; expected dd mm yyyy hh:mm:ss or mmm dd yyyy hh:mm:ss",
			    cmd->w[0]);
		cv_time_format_iso(l.date, buf); /* "2003-01-01T00:00:00Z" */
		l.value = malloc(24);
		if (l.value != NULL)
			snprintf(l.value, 24, "%.2s %.2s %.4s %.8s", buf + 8, buf + 5, buf,
			         buf + 11);
	} else {
		l.value = join(argv + 1, argc - 1);
		if (l.value != NULL && field != CV_MAP_SERIAL_NUMBER)
			normalise_name(l.value);
	}
	if (l.value == NULL)
		return oom(p);
	v = cv_config_grow(e->lines, &e->n_lines, sizeof(*v));
	if (v == NULL) {
		free(l.value);
		return oom(p);
	}
	e->lines = v;
	v[e->n_lines - 1] = l;
	return 0;
}

/* ---- AAA modes ---- */

/* A serial as cv_cert_serial writes it: upper-case hex, no separators or leading zeros. */
static int
normalise_serial(char *s)
{
	char *d = s, *r = s;

	for (; *r != '\0'; r++) {
		if (*r == ':')
			continue;
		if (!isxdigit((unsigned char)*r))
			return -1;
		/* leading zeros after separators too: "00:01" is serial 1 */
		if (d == s + 1 && s[0] == '0')
			d = s;
		*d++ = (char)toupper((unsigned char)*r);
	}
	*d = '\0';
	return d == s ? -1 : 0;
}

static int
push_attr(struct cfg_parser *p, struct cv_aaa_attr_list *l, const char *type, const char *value)
{
	struct cv_aaa_attr *v = cv_config_grow(l->attrs, &l->n_attrs, sizeof(*v));

	if (v == NULL)
		return oom(p);
	l->attrs = v;
	v[l->n_attrs - 1].type = strdup(type);
	v[l->n_attrs - 1].value = strdup(value);
	if (v[l->n_attrs - 1].type == NULL || v[l->n_attrs - 1].value == NULL)
		return oom(p);
	return 0;
}

static int
h_attribute(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_aaa_attr_list *l = obj;
	char type[64], *value;
	int rc = 0;

	/* every "aaa-" prefix: a type kept as "aaa-..." would lose it on the dump's next load */
	while (strncasecmp(argv[0], "aaa-", 4) == 0)
		argv[0] += 4;
	if (strlen(argv[0]) >= sizeof(type) || argv[0][0] == '\0')
		return perr(p, "attribute type: bad type name '%s'", argv[0]);
	for (size_t i = 0; argv[0][i] != '\0'; i++)
		type[i] = (char)tolower((unsigned char)argv[0][i]);
	type[strlen(argv[0])] = '\0';
	if (strcmp(type, "cert-serial-not") != 0) {
		if ((value = join(argv + 1, argc - 1)) == NULL)
			return oom(p);
		rc = push_attr(p, l, type, value);
		free(value);
		return rc;
	}
	/* cert-serial-not: serials separated by commas or spaces (O-21), one attribute each */
	for (size_t i = 1; i < argc && rc == 0; i++) {
		char *save = NULL;

		for (char *s = strtok_r(argv[i], ",", &save); s != NULL && rc == 0;
		     s = strtok_r(NULL, ",", &save)) {
			if (normalise_serial(s) < 0)
				return perr(p,
				            "attribute type cert-serial-not: '%s' is not a hex "
				            "serial number",
				            s);
			rc = push_attr(p, l, type, s);
		}
	}
	return rc;
}

static int
h_radius_server(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                size_t argc)
{
	static const char *const kw[] = {"auth-port", "key"};
	struct cv_aaa_server *s = obj;
	unsigned long long port = 1812;
	const char *key = NULL;

	for (size_t i = 1; i < argc; i += 2) {
		int k = kw_match(argv[i], kw, 2);

		/* the rest of an unquoted key is never echoed (CFG_SECRET) */
		if (k < 0 && key != NULL)
			return perr(p, "server: unexpected word after the key; a key with spaces "
			               "must be quoted");
		if (k < 0 && (k = kw_arg(p, "server", argv[i], kw, 2)) < 0)
			return -1;
		if (i + 1 >= argc)
			return perr(p,
			            "server: '%s' needs a value; expected server ADDRESS "
			            "[auth-port N] key SECRET",
			            kw[k]);
		if (k == 0 && parse_num(p, "server auth-port", argv[i + 1], 1, 65535, &port) < 0)
			return -1;
		if (k == 1)
			key = argv[i + 1];
	}
	if (key == NULL)
		return perr(
		    p, "server: missing key; expected server ADDRESS [auth-port N] key SECRET");
	if (set_str(p, &s->address, argv[0]) < 0 || set_str(p, &s->secret, key) < 0)
		return -1;
	s->port = (unsigned)port;
	return 0;
}

/*
 * The manuals' global RADIUS host (000_74df1f70eb9db823.txt:1625, 1659): `radius-server host
 * HOST [auth-port N] [acct-port N] [timeout S] [key SECRET]` and `radius-server key SECRET` fill
 * the server group called `radius`, which `aaa authorization network L group radius` names, as
 * in IOS. certval asks one server per group: a second host is refused.
 */
static struct cv_aaa_server *
global_radius(struct cfg_parser *p)
{
	struct cv_config *cfg = p->cfg;
	const size_t saved = p->idx;
	bool added;
	struct cv_aaa_server *v =
	    OPEN_BLOCK(p, "radius-server", struct cv_aaa_server, cfg->aaa_servers,
	               cfg->n_aaa_servers, "radius", &added);
	struct cv_aaa_server *s;

	if (v == NULL)
		return NULL;
	cfg->aaa_servers = v;
	s = &v[p->idx];
	p->idx = saved;
	if (added) {
		s->kind = CV_AAA_SERVER_RADIUS;
		s->port = 1812;
		s->timeout_s = 5;
	} else if (s->kind != CV_AAA_SERVER_RADIUS) {
		perr(p, "radius-server: the group 'radius' is an ldap group (line %u)", s->line);
		return NULL;
	}
	return s;
}

static int
h_radius_host(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	static const char *const kw[] = {"auth-port", "acct-port", "timeout", "key"};
	struct cv_aaa_server *s = global_radius(p);
	unsigned long long port = 1812, timeout = 0, ignored;
	const char *key = NULL;

	if (s == NULL)
		return -1;
	if (s->address != NULL)
		return perr(p,
		            "radius-server host: a second host (the first is %s); certval asks "
		            "one server per group: define aaa group server radius NAME blocks",
		            s->address);
	for (size_t i = 1; i < argc; i += 2) {
		int k = kw_match(argv[i], kw, CV_ARRAY_LEN(kw));

		if (k < 0 && key != NULL) /* the rest of an unquoted key is never echoed */
			return perr(p, "radius-server host: unexpected word after the key; a key "
			               "with spaces must be quoted");
		if (k < 0 &&
		    (k = kw_arg(p, "radius-server host", argv[i], kw, CV_ARRAY_LEN(kw))) < 0)
			return -1;
		if (i + 1 >= argc)
			return perr(p, "radius-server host: '%s' needs a value", kw[k]);
		if ((k == 0 && parse_num(p, "radius-server host auth-port", argv[i + 1], 1, 65535,
		                         &port) < 0) ||
		    (k == 1 && parse_num(p, "radius-server host acct-port", argv[i + 1], 0, 65535,
		                         &ignored) < 0) ||
		    (k == 2 &&
		     parse_num(p, "radius-server host timeout", argv[i + 1], 1, 60, &timeout) < 0))
			return -1;
		if (k == 3)
			key = argv[i + 1];
	}
	if (set_str(p, &s->address, argv[0]) < 0 ||
	    (key != NULL && set_str(p, &s->secret, key) < 0))
		return -1;
	s->port = (unsigned)port;
	if (timeout != 0)
		s->timeout_s = (unsigned)timeout;
	return 0;
}

static int
h_radius_key(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv, size_t argc)
{
	struct cv_aaa_server *s = global_radius(p);

	if (s == NULL)
		return -1;
	if (argc > 1)
		return perr(p, "radius-server key: a key with spaces must be quoted");
	if (s->secret != NULL) /* a key on the host line wins, as in IOS */
		return 0;
	return set_str(p, &s->secret, argv[0]);
}

/* ---- the tables ---- */

#define REV_CMDS(T)                                                                                \
	{.w = {"revocation-check"},                                                                \
	 .syntax = "METHOD...", /* h_revcheck checks the count against the method table */         \
	 .kind = CFG_FUNC,                                                                         \
	 .off = offsetof(T, rev),                                                                  \
	 .max_args = LINE_ARGS_MAX,                                                                \
	 .fn = h_revcheck,                                                                         \
	 .dump = cfg_dump_revcheck},                                                               \
	    {.w = {"crl", "optional"},                                                             \
	     .syntax = "",                                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_crl_optional,                                                                 \
	     .flags = CFG_LEGACY},                                                                 \
	    {.w = {"crl", "best-effort"},                                                          \
	     .syntax = "",                                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_crl_best_effort,                                                              \
	     .flags = CFG_LEGACY},                                                                 \
	    {.w = {"crl", "query"},                                                                \
	     .syntax = "ldap://HOST[:PORT][/DN]",                                                  \
	     .kind = CFG_STR,                                                                      \
	     .off = offsetof(T, rev.crl_query_url),                                                \
	     .check = CFG_URL_LDAP,                                                                \
	     .flags = CFG_SECRET},                                                                 \
	    {.w = {"query", "url"},                                                                \
	     .syntax = "ldap://HOST[:PORT][/DN]",                                                  \
	     .kind = CFG_STR,                                                                      \
	     .off = offsetof(T, rev.crl_query_url),                                                \
	     .check = CFG_URL_LDAP,                                                                \
	     .flags = CFG_LEGACY | CFG_SECRET},                                                    \
	    {.w = {"crl", "file"},                                                                 \
	     .syntax = "PATH",                                                                     \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .min_args = 1,                                                                        \
	     .max_args = 1,                                                                        \
	     .fn = h_crl_file,                                                                     \
	     .dump = cfg_dump_crl_files},                                                          \
	    {.w = {"crl", "refresh-window"},                                                       \
	     .syntax = "PERCENT%|SECONDS",                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .min_args = 1,                                                                        \
	     .max_args = 1,                                                                        \
	     .fn = h_crl_refresh_window,                                                           \
	     .dump = cfg_dump_crl_refresh_window},                                                 \
	    {.w = {"crl-cache", "none"},                                                           \
	     .syntax = "",                                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_crl_cache_none,                                                               \
	     .dump = cfg_dump_crl_cache},                                                          \
	    {.w = {"crl-cache", "delete-after"},                                                   \
	     .syntax = "MINUTES",                                                                  \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .min_args = 1,                                                                        \
	     .max_args = 1,                                                                        \
	     .fn = h_crl_cache_delete},                                                            \
	    {.w = {"crl", "cache", "none"},                                                        \
	     .syntax = "",                                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_crl_cache_none,                                                               \
	     .flags = CFG_LEGACY},                                                                 \
	    {.w = {"crl", "cache", "delete-after"},                                                \
	     .syntax = "MINUTES",                                                                  \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .min_args = 1,                                                                        \
	     .max_args = 1,                                                                        \
	     .fn = h_crl_cache_delete,                                                             \
	     .flags = CFG_LEGACY},                                                                 \
	    {.w = {"ocsp", "url"},                                                                 \
	     .syntax = "URL",                                                                      \
	     .kind = CFG_STR,                                                                      \
	     .off = offsetof(T, rev.ocsp_url),                                                     \
	     .check = CFG_URL_HTTP,                                                                \
	     .flags = CFG_SECRET},                                                                 \
	    {.w = {"ocsp", "disable-nonce"},                                                       \
	     .syntax = "",                                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_nonce,                                                                        \
	     .dump = cfg_dump_disable_nonce},                                                      \
	    {.w = {"ocsp", "nonce", "require"},                                                    \
	     .syntax = "",                                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_nonce},                                                                       \
	    {.w = {"ocsp", "nonce", "if-echoed"},                                                  \
	     .syntax = "",                                                                         \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_nonce,                                                                        \
	     .dump = cfg_dump_nonce_if_echoed},                                                    \
	    {.w = {"ocsp", "cache-lifetime"},                                                      \
	     .syntax = "SECONDS",                                                                  \
	     .kind = CFG_FUNC,                                                                     \
	     .min_args = 1,                                                                        \
	     .max_args = 1,                                                                        \
	     .off = offsetof(T, rev),                                                              \
	     .fn = h_ocsp_cache,                                                                   \
	     .dump = cfg_dump_ocsp_cache},                                                         \
	    {.w = {"ocsp", "nonce", "length"},                                                     \
	     .syntax = "BYTES",                                                                    \
	     .kind = CFG_UINT,                                                                     \
	     .off = offsetof(T, rev.nonce_length),                                                 \
	     .min = 1,                                                                             \
	     .max = 32,                                                                            \
	     .def = 16,                                                                            \
	     .scale = 1},                                                                          \
	    {.w = {"match", "certificate"},                                                        \
	     .syntax = "LABEL [allow expired-certificate | skip revocation-check | skip "          \
	               "authorization-check | override cdp url URL | override cdp directory DN | " \
	               "override ocsp [trustpoint TP...] SEQ url URL]",                            \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .min_args = 1,                                                                        \
	     .max_args = 64,                                                                       \
	     .fn = h_match,                                                                        \
	     .dump = cfg_dump_matches,                                                             \
	     .flags = CFG_SECRET},                                                                 \
	    {.w = {"chain-validation"},                                                            \
	     .syntax = "stop|continue [PARENT]",                                                   \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, rev),                                                              \
	     .min_args = 1,                                                                        \
	     .max_args = 2,                                                                        \
	     .fn = h_chain_validation,                                                             \
	     .dump = cfg_dump_chain_validation},                                                   \
	    {.w = {"allow-weak-signature"},                                                        \
	     .syntax = "sha1|md5|dsa|rsa-1024|p192|rsa-odd-size ...",                              \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, allowed_weak),                                                     \
	     .min_args = 1,                                                                        \
	     .max_args = CV_WEAK_ALG_COUNT,                                                        \
	     .fn = h_weak,                                                                         \
	     .dump = cfg_dump_weak},                                                               \
	    {.w = {"validation-profile"},                                                          \
	     .syntax = "rfc5280|webpki",                                                           \
	     .kind = CFG_FUNC,                                                                     \
	     .off = offsetof(T, profile),                                                          \
	     .min_args = 1,                                                                        \
	     .max_args = 1,                                                                        \
	     .fn = h_profile,                                                                      \
	     .dump = cfg_dump_profile},                                                            \
	    {.w = {"chain-depth"},                                                                 \
	     .syntax = "CERTIFICATES",                                                             \
	     .kind = CFG_UINT,                                                                     \
	     .off = offsetof(T, chain_depth),                                                      \
	     .min = 1,                                                                             \
	     .max = CV_PATH_MAX_DEPTH,                                                             \
	     .def = CV_PATH_MAX_DEPTH,                                                             \
	     .scale = 1},                                                                          \
	{                                                                                          \
		.w = {"allow-cn-fallback"}, .syntax = "", .kind = CFG_FUNC,                        \
		.off = offsetof(T, relaxations), .def = CV_RELAX_CN_FALLBACK, .fn = h_relaxation,  \
		.dump = cfg_dump_relaxation                                                        \
	}

#define IGNORED(word)                                                                              \
	{                                                                                          \
		.w = {word}, .syntax = "...", .kind = CFG_IGNORE, .max_args = LINE_ARGS_MAX        \
	}

/* A command that configures the router itself: skipped with a warning (CFG_ROUTER). */
#define ROUTER(...)                                                                                \
	{                                                                                          \
		.w = {__VA_ARGS__}, .syntax = "...", .kind = CFG_IGNORE,                           \
		.max_args = LINE_ARGS_MAX, .flags = CFG_ROUTER                                     \
	}

/* `aaa new-model`: the manuals enable AAA with it; certval's AAA needs no switch. */
#define AAA_NEW_MODEL                                                                              \
	{                                                                                          \
		.w = {"aaa", "new-model"}, .syntax = "", .kind = CFG_IGNORE, .flags = CFG_NOOP     \
	}

static const struct cfg_cmd trustpoint_cmds[] = {
    {.w = {"ca-certificate"},
     .syntax = "PATH",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .off = offsetof(struct cv_trustpoint, ca_cert_path),
     .fn = h_ca_certificate,
     .dump = cfg_dump_str_field},
    {.w = {"fingerprint"},
     .syntax = "HEX",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 64,
     .fn = h_fingerprint,
     .dump = cfg_dump_fingerprint},
    {.w = {"primary"}, .syntax = "", .kind = CFG_FUNC, .fn = h_primary, .dump = cfg_dump_primary},
    REV_CMDS(struct cv_trustpoint),
    {.w = {"authorization", "list"},
     .syntax = "NAME",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .fn = h_authz_list,
     .off = offsetof(struct cv_trustpoint, authz_list),
     .dump = cfg_dump_str_field},
    {.w = {"authorization", "username", "subjectname"},
     .syntax = "all|commonname|country|email|ipaddress|locality|organization|"
               "organizationalunit|postalcode|serialnumber|state|streetaddress|title|"
               "unstructuredname",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .fn = h_authz_username,
     .dump = cfg_dump_authz_username},
    {.w = {"source", "interface"},
     .syntax = "INTERFACE",
     .kind = CFG_STR,
     .off = offsetof(struct cv_trustpoint, source_interface)},
    {.w = {"vrf"}, .syntax = "NAME", .kind = CFG_STR, .off = offsetof(struct cv_trustpoint, vrf)},
    {.w = {"aia-fetch"},
     .syntax = "",
     .kind = CFG_FLAG,
     .off = offsetof(struct cv_trustpoint, aia_fetch)},
    {.w = {"policy"},
     .syntax = "OID",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .fn = h_policy,
     .dump = cfg_dump_policies},
    {.w = {"explicit-policy"},
     .syntax = "",
     .kind = CFG_FLAG,
     .off = offsetof(struct cv_trustpoint, explicit_policy)},
    {.w = {"inhibit-policy-mapping"},
     .syntax = "",
     .kind = CFG_FLAG,
     .off = offsetof(struct cv_trustpoint, inhibit_policy_mapping)},
    {.w = {"inhibit-any-policy"},
     .syntax = "",
     .kind = CFG_FLAG,
     .off = offsetof(struct cv_trustpoint, inhibit_any_policy)},
    IGNORED("enrollment"),
    IGNORED("rsakeypair"),
    IGNORED("auto-enroll"),
    IGNORED("serial-number"),
    IGNORED("fqdn"),
    IGNORED("ip-address"),
    IGNORED("subject-name"),
    IGNORED("subject-alt-name"),
    IGNORED("usage"),
    IGNORED("password"),
    IGNORED("eckeypair"),
    IGNORED("rollover"),
    IGNORED("auto-trigger"),
    IGNORED("regenerate"),
    AAA_NEW_MODEL, /* written inside the trustpoint at 000_74df1f70eb9db823.txt:2896 */
};

static const struct cfg_cmd trustpool_cmds[] = {
    {.w = {"ca-bundle"},
     .syntax = "PATH",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .fn = h_bundle,
     .dump = cfg_dump_bundles},
    REV_CMDS(struct cv_trustpool),
};

#define MAP_FIELD(name, f)                                                                         \
	{                                                                                          \
		.w = {name}, .syntax = "OP VALUE", .kind = CFG_FUNC, .off = f, .min_args = 2,      \
		.max_args = LINE_ARGS_MAX, .fn = h_map_line                                        \
	}

static const struct cfg_cmd map_cmds[] = {
    MAP_FIELD("alt-subject-name", CV_MAP_ALT_SUBJECT_NAME),
    MAP_FIELD("expires-on", CV_MAP_EXPIRES_ON),
    MAP_FIELD("issuer-name", CV_MAP_ISSUER_NAME),
    MAP_FIELD("name", CV_MAP_NAME),
    MAP_FIELD("serial-number", CV_MAP_SERIAL_NUMBER),
    MAP_FIELD("subject-name", CV_MAP_SUBJECT_NAME),
    MAP_FIELD("unstructured-subject-name", CV_MAP_UNSTRUCTURED_SUBJECT_NAME),
    MAP_FIELD("valid-start", CV_MAP_VALID_START),
};

static const struct cfg_cmd attr_list_cmds[] = {
    {.w = {"attribute", "type"},
     .syntax = "TYPE VALUE",
     .kind = CFG_FUNC,
     .min_args = 2,
     .max_args = LINE_ARGS_MAX,
     .fn = h_attribute,
     .dump = cfg_dump_attrs},
    {.w = {"attribute-type"},
     .syntax = "TYPE VALUE",
     .kind = CFG_FUNC,
     .min_args = 2,
     .max_args = LINE_ARGS_MAX,
     .fn = h_attribute,
     .flags = CFG_LEGACY},
};

#define SERVER_TIMEOUT                                                                             \
	{                                                                                          \
		.w = {"timeout"}, .syntax = "SECONDS", .kind = CFG_UINT,                           \
		.off = offsetof(struct cv_aaa_server, timeout_s), .min = 1, .max = 60, .def = 5,   \
		.scale = 1                                                                         \
	}

static const struct cfg_cmd radius_cmds[] = {
    {.w = {"server"},
     .syntax = "ADDRESS [auth-port N] key SECRET",
     .kind = CFG_FUNC,
     .min_args = 3,
     .max_args = LINE_ARGS_MAX, /* h_radius_server: its errors do not echo the key */
     .fn = h_radius_server,
     .dump = cfg_dump_radius_server,
     .flags = CFG_SECRET},
    SERVER_TIMEOUT,
};

static const struct cfg_cmd ldap_cmds[] = {
    {.w = {"server"},
     .syntax = "ldap[s]://HOST[:PORT]",
     .kind = CFG_STR,
     .off = offsetof(struct cv_aaa_server, address),
     .check = CFG_URL_LDAPS,
     .flags = CFG_SECRET},
    {.w = {"base-dn"},
     .syntax = "DN",
     .kind = CFG_TEXT,
     .off = offsetof(struct cv_aaa_server, base_dn),
     .min_args = 1,
     .max_args = LINE_ARGS_MAX},
    {.w = {"attribute"},
     .syntax = "NAME",
     .kind = CFG_STR,
     .off = offsetof(struct cv_aaa_server, attribute),
     .sdef = "ciscoAVPair"},
    SERVER_TIMEOUT,
};

/* A command that opens a named block: its handler, flags, dumper and keywords. */
#define BLOCK_OPENER(fn_, flags_, dump_, ...)                                                      \
	{                                                                                          \
		.w = {__VA_ARGS__}, .syntax = "NAME", .kind = CFG_FUNC, .min_args = 1,             \
		.max_args = 1, .fn = fn_, .flags = flags_, .dump = dump_                           \
	}

static const struct cfg_cmd global_cmds[] = {
    {.w = {"socket"},
     .syntax = "PATH",
     .kind = CFG_STR,
     .off = offsetof(struct cv_config, socket_path),
     .sdef = "/run/certval/certvald.sock"},
    {.w = {"socket-mode"},
     .syntax = "OCTAL",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .fn = h_socket_mode,
     .dump = cfg_dump_socket_mode},
    {.w = {"admin-group"},
     .syntax = "NAME",
     .kind = CFG_STR,
     .off = offsetof(struct cv_config, admin_group)},
    {.w = {"cache-dir"},
     .syntax = "PATH",
     .kind = CFG_STR,
     .off = offsetof(struct cv_config, cache_dir)},
    {.w = {"max-request-bytes"},
     .syntax = "BYTES",
     .kind = CFG_SIZE,
     .off = offsetof(struct cv_config, max_request_bytes),
     .min = 1024,
     .max = 64u << 20,
     .def = 1u << 20},
    {.w = {"max-connections"},
     .syntax = "N",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, max_connections),
     .min = 1,
     .max = 1000000,
     .def = 4096,
     .scale = 1},
    {.w = {"request-timeout"},
     .syntax = "SECONDS",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, request_timeout_ms),
     .min = 1,
     .max = 3600,
     .def = 30,
     .scale = 1000},
    {.w = {"workers"},
     .syntax = "N",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, workers),
     .min = 0,
     .max = 256,
     .def = 0,
     .scale = 1},
    {.w = {"fetch", "timeout"},
     .syntax = "SECONDS",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, fetch_timeout_ms),
     .min = 1,
     .max = 600,
     .def = 10,
     .scale = 1000},
    {.w = {"verdict-cache", "entries"},
     .syntax = "N",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, verdict_cache_entries),
     .min = 0,
     .max = 1000000,
     .def = 2048,
     .scale = 1},
    {.w = {"fetch", "retry-after"},
     .syntax = "SECONDS",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, fetch_retry_after_s),
     .min = 0,
     .max = 3600,
     .def = 10,
     .scale = 1},
    {.w = {"fetch", "max-crl-size"},
     .syntax = "BYTES",
     .kind = CFG_SIZE,
     .off = offsetof(struct cv_config, crl_max_bytes),
     .min = 1024,
     .max = 1u << 30,
     .def = 64u << 20},
    {.w = {"fetch", "max-ocsp-size"},
     .syntax = "BYTES",
     .kind = CFG_SIZE,
     .off = offsetof(struct cv_config, ocsp_max_bytes),
     .min = 1024,
     .max = 16u << 20,
     .def = 64u << 10},
    {.w = {"ocsp", "clock-skew"},
     .syntax = "SECONDS",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, ocsp_skew_s),
     .min = 0,
     .max = 3600,
     .def = 300,
     .scale = 1},
    {.w = {"ocsp", "no-next-update-lifetime"},
     .syntax = "SECONDS",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, ocsp_no_next_update_s),
     .min = 0,
     .max = 86400,
     .def = 300,
     .scale = 1},
    {.w = {"fetch", "proxy"},
     .syntax = "URL",
     .kind = CFG_STR,
     .off = offsetof(struct cv_config, fetch_proxy),
     .check = CFG_URL_PROXY,
     .flags = CFG_SECRET},
    {.w = {"clock", "timezone"},
     .syntax = "NAME HOURS [MINUTES]",
     .kind = CFG_FUNC,
     .min_args = 2,
     .max_args = 3,
     .fn = h_timezone,
     .dump = cfg_dump_timezone},
    {.w = {"aaa", "cache-time"},
     .syntax = "SECONDS",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, aaa_cache_s),
     .min = 0,
     .max = 86400,
     .def = 0,
     .scale = 1},
    /* IOS: the source of RADIUS requests; here the NAS-IP-Address they carry */
    {.w = {"ip", "radius", "source-interface"},
     .syntax = "INTERFACE|ADDRESS",
     .kind = CFG_STR,
     .off = offsetof(struct cv_config, radius_source)},
    {.w = {"http", "listen"},
     .syntax = "unix:PATH|ADDRESS:PORT",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .fn = h_http_listen,
     .dump = cfg_dump_http_listen},
    {.w = {"http", "max-body"},
     .syntax = "BYTES",
     .kind = CFG_SIZE,
     .off = offsetof(struct cv_config, http_max_body),
     .min = 1024,
     .max = 16u << 20,
     .def = 64u << 10},
    {.w = {"http", "max-header"},
     .syntax = "BYTES",
     .kind = CFG_SIZE,
     .off = offsetof(struct cv_config, http_max_header),
     .min = 1024,
     .max = 1u << 20,
     .def = 32u << 10},
    {.w = {"http", "timeout"},
     .syntax = "SECONDS",
     .kind = CFG_UINT,
     .off = offsetof(struct cv_config, http_timeout_s),
     .min = 1,
     .max = 3600,
     .def = 10,
     .scale = 1},
    {.w = {"http", "client-cert-header"},
     .syntax = "nginx|envoy|traefik|caddy [HEADER]",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 2,
     .fn = h_http_cert_header,
     .dump = cfg_dump_http_cert_header},
    {.w = {"http", "trustpoint"},
     .syntax = "NAME",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .off = offsetof(struct cv_config, http_trustpoint),
     .fn = h_http_trustpoint,
     .dump = cfg_dump_str_field},
    {.w = {"intermediate-pool"},
     .syntax = "PATH",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = 1,
     .off = offsetof(struct cv_config, intermediate_pool_path),
     .fn = h_intermediate_pool,
     .dump = cfg_dump_str_field},
    BLOCK_OPENER(h_server_group, 0, cfg_dump_radius, "aaa", "group", "server", "radius"),
    BLOCK_OPENER(h_server_group, 0, cfg_dump_ldap, "aaa", "group", "server", "ldap"),
    BLOCK_OPENER(h_attr_list, 0, cfg_dump_attr_lists, "aaa", "attribute", "list"),
    {.w = {"aaa", "authorization", "list"},
     .syntax = "NAME group GROUP|local ...",
     .kind = CFG_FUNC,
     .min_args = 2,
     .max_args = 2 * CV_AAA_METHODS_MAX + 2,
     .fn = h_aaa_list,
     .dump = cfg_dump_aaa_lists},
    /* the manuals' form (000_74df1f70eb9db823.txt:1633, 2196), shown as aaa authorization list */
    {.w = {"aaa", "authorization", "network"},
     .syntax = "NAME group GROUP|local ...",
     .kind = CFG_FUNC,
     .min_args = 2,
     .max_args = 2 * CV_AAA_METHODS_MAX + 2,
     .fn = h_aaa_list,
     .flags = CFG_LEGACY},
    AAA_NEW_MODEL,
    {.w = {"radius-server", "host"},
     .syntax = "HOST [auth-port N] [acct-port N] [timeout SECONDS] [key SECRET]",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = LINE_ARGS_MAX, /* h_radius_host: its errors do not echo the key */
     .fn = h_radius_host,
     .flags = CFG_LEGACY | CFG_SECRET},
    {.w = {"radius-server", "key"},
     .syntax = "SECRET",
     .kind = CFG_FUNC,
     .min_args = 1,
     .max_args = LINE_ARGS_MAX,
     .fn = h_radius_key,
     .flags = CFG_LEGACY | CFG_SECRET},
    /* the rest of the manuals' full configurations: the router's own settings */
    ROUTER("configure"), /* `conf t` in the design guide's transcripts */
    ROUTER("hostname"),
    ROUTER("version"),
    ROUTER("ip"),
    ROUTER("tacacs-server"),
    ROUTER("username"),
    ROUTER("aaa", "authentication"),
    ROUTER("aaa", "accounting"),
    ROUTER("aaa", "session-id"),
    ROUTER("aaa", "authorization", "exec"),
    ROUTER("crypto", "pki", "server"),
    ROUTER("crypto", "pki", "authenticate"),
    ROUTER("crypto", "pki", "enroll"),
    ROUTER("crypto", "pki", "import"),
    ROUTER("crypto", "pki", "export"),
    ROUTER("crypto", "pki", "token"),
    ROUTER("crypto", "pki", "profile"),
    ROUTER("crypto", "ca", "authenticate"),
    ROUTER("crypto", "ca", "enroll"),
    ROUTER("crypto", "ca", "import"),
    ROUTER("crypto", "ca", "export"),
    ROUTER("crypto", "key"),
    {.w = {"crypto", "pki", "certificate", "map"},
     .syntax = "LABEL SEQ",
     .kind = CFG_FUNC,
     .min_args = 2,
     .max_args = 2,
     .fn = h_map,
     .dump = cfg_dump_maps},
    BLOCK_OPENER(h_trustpoint, 0, cfg_dump_trustpoints, "crypto", "pki", "trustpoint"),
    BLOCK_OPENER(h_trustpoint, CFG_LEGACY, NULL, "crypto", "ca", "trustpoint"),
    BLOCK_OPENER(h_trustpoint, CFG_LEGACY, NULL, "crypto", "ca", "trusted-root"),
    BLOCK_OPENER(h_trustpoint, CFG_LEGACY, NULL, "crypto", "ca", "identity"),
    BLOCK_OPENER(h_chain, 0, cfg_dump_chains, "crypto", "pki", "certificate", "chain"),
    BLOCK_OPENER(h_chain, CFG_LEGACY, NULL, "crypto", "ca", "certificate", "chain"),
    {.w = {"crypto", "pki", "trustpool", "policy"},
     .syntax = "",
     .kind = CFG_FUNC,
     .fn = h_trustpool,
     .dump = cfg_dump_trustpool},
};

#define MODE(name, t)                                                                              \
	{                                                                                          \
		name, t, CV_ARRAY_LEN(t)                                                           \
	}

const struct cfg_mode cfg_mode_global = MODE("global", global_cmds);
const struct cfg_mode cfg_mode_trustpoint = MODE("trustpoint", trustpoint_cmds);
const struct cfg_mode cfg_mode_trustpool = MODE("trustpool policy", trustpool_cmds);
const struct cfg_mode cfg_mode_map = MODE("certificate map", map_cmds);
const struct cfg_mode cfg_mode_attr_list = MODE("aaa attribute list", attr_list_cmds);
const struct cfg_mode cfg_mode_radius = MODE("radius server group", radius_cmds);
const struct cfg_mode cfg_mode_ldap = MODE("ldap server group", ldap_cmds);

_Static_assert(CV_ARRAY_LEN(trustpoint_cmds) <= TABLE_MAX, "trustpoint table too large");
_Static_assert(CV_ARRAY_LEN(global_cmds) <= TABLE_MAX, "global table too large");

/* ---- running one command ---- */

static int
run_cmd(struct cfg_parser *p, const struct cfg_mode *m, void *obj, char **argv, size_t argc)
{
	const struct cfg_cmd *cmd = NULL;
	char name[96];
	size_t nw = 0, n;
	unsigned long long v = 0;

	if (find_cmd(p, m, argv, argc, &cmd, &nw) < 0)
		return -1;
	cmd_name(cmd, name, sizeof(name));
	argv += nw;
	n = argc - nw;
	switch (cmd->kind) {
	case CFG_IGNORE:
		if (cmd->flags & CFG_NOOP)
			return 0;
		if (!(cmd->flags & CFG_ROUTER)) {
			cv_config_warn(p->cfg, p->line,
			               "'%s' is an enrollment command; ignored (certval does not "
			               "enroll)",
			               name);
			return 0;
		}
		cv_config_warn(p->cfg, p->line,
		               "'%s' configures the router itself, not certificate validation; "
		               "ignored with its indented lines",
		               name);
		if (p->mode == M_GLOBAL)
			p->mode = M_SKIP;
		return 0;
	case CFG_FLAG:
	case CFG_STR:
	case CFG_UINT:
	case CFG_SIZE: {
		size_t want = cmd->kind == CFG_FLAG ? 0 : 1;

		if (n < want)
			return perr(p, "%s: missing argument; expected %s %s", name, name,
			            cmd->syntax);
		if (n > want)
			return perr(p, "%s: unexpected '%s'; expected %s%s%s", name, argv[want],
			            name, cmd->syntax[0] ? " " : "", cmd->syntax);
		break;
	}
	case CFG_TEXT:
	case CFG_FUNC:
		if (n < cmd->min_args)
			return perr(p, "%s: missing argument; expected %s %s", name, name,
			            cmd->syntax);
		if (n > cmd->max_args)
			return perr(p, "%s: unexpected '%s'; expected %s%s%s", name,
			            argv[cmd->max_args], name, cmd->syntax[0] ? " " : "",
			            cmd->syntax);
		break;
	}
	switch (cmd->kind) {
	case CFG_FLAG:
		*FIELD(obj, cmd, bool) = true;
		return 0;
	case CFG_STR:
		if (check_url(p, name, argv[0], cmd->check) < 0)
			return -1;
		return set_str(p, FIELD(obj, cmd, char *), argv[0]);
	case CFG_TEXT: {
		char *s = join(argv, n);

		if (s == NULL)
			return oom(p);
		free(*FIELD(obj, cmd, char *));
		*FIELD(obj, cmd, char *) = s;
		return 0;
	}
	case CFG_UINT:
		if (parse_num(p, name, argv[0], cmd->min, cmd->max, &v) < 0)
			return -1;
		*FIELD(obj, cmd, unsigned) = (unsigned)(v * cmd->scale);
		return 0;
	case CFG_SIZE:
		if (parse_num(p, name, argv[0], cmd->min, cmd->max, &v) < 0)
			return -1;
		*FIELD(obj, cmd, size_t) = (size_t)v;
		return 0;
	case CFG_FUNC:
		return cmd->fn(p, cmd, obj, argv, n);
	case CFG_IGNORE:
		break;
	}
	return 0;
}

/* ---- certificate chain blocks: certificate ca SERIAL, hex lines, quit ---- */

static int
hex_append(struct cfg_parser *p, const char *s)
{
	for (; *s != '\0'; s++) {
		if (!isxdigit((unsigned char)*s))
			return perr(p,
			            "certificate %s: '%c' is not a hex digit; expected hex lines "
			            "ending with quit",
			            p->cert_serial, *s);
		if (p->hex_len + 1 >= p->hex_cap) {
			size_t cap = p->hex_cap ? 2 * p->hex_cap : 4096;
			char *h;

			if (cap > 2 * (size_t)CV_CERT_FILE_MAX)
				return perr(p, "certificate %s: too long", p->cert_serial);
			if ((h = realloc(p->hex, cap)) == NULL)
				return oom(p);
			p->hex = h;
			p->hex_cap = cap;
		}
		p->hex[p->hex_len++] = *s;
	}
	return 0;
}

static int
hex_finish(struct cfg_parser *p)
{
	struct cfg_chain *c = &p->chains[p->idx];
	struct cv_cert *cert = NULL;
	struct cv_error e;
	uint8_t *der;
	size_t n = p->hex_len / 2;
	int rc = -1;

	p->in_hex = false;
	if (!p->hex_keep)
		return 0;
	if (p->hex_len % 2 != 0 || n == 0)
		return perr(p, "certificate ca %s: odd number of hex digits", p->cert_serial);
	if ((der = malloc(n)) == NULL)
		return oom(p);
	for (size_t i = 0; i < n; i++) {
		char byte[3] = {p->hex[2 * i], p->hex[2 * i + 1], '\0'};

		der[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	if (cv_cert_from_der(der, n, &cert, &e) < 0)
		perr(p, "certificate ca %s: %s", p->cert_serial, e.msg);
	else if (cv_cert_list_push(&c->certs, cert) < 0)
		oom(p);
	else
		rc = 0;
	cv_cert_unref(cert);
	free(der);
	return rc;
}

static int
chain_line(struct cfg_parser *p, char **argv, size_t argc)
{
	static const char *const kw[] = {"certificate"};

	if (p->in_hex) {
		if (argc == 1 && cv_strcasecmp(argv[0], "quit") == 0)
			return hex_finish(p);
		for (size_t i = 0; i < argc; i++)
			if (hex_append(p, argv[i]) < 0)
				return -1;
		return 0;
	}
	if (kw_match(argv[0], kw, 1) != 0)
		return perr(
		    p,
		    "unknown command '%s' in certificate chain mode; expected one of: certificate",
		    argv[0]);
	p->hex_keep = argc >= 2 && cv_strcasecmp(argv[1], "ca") == 0;
	if (argc != (p->hex_keep ? 3u : 2u) && !(argc == 3 && !p->hex_keep))
		return perr(
		    p, "certificate: wrong number of arguments; expected certificate ca SERIAL");
	cv_strlcpy(p->cert_serial, argv[argc - 1], sizeof(p->cert_serial));
	if (!p->hex_keep)
		cv_config_warn(
		    p->cfg, p->line,
		    "certificate chain %s: certificate %s is not a CA certificate; ignored",
		    p->chains[p->idx].name, p->cert_serial);
	p->in_hex = true;
	p->hex_len = 0;
	p->cert_line = p->line;
	return 0;
}

/* ---- lines and blocks ---- */

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits a line in place; `!` or `#` at the start of a word begins a comment. */
static int
tokenize(struct cfg_parser *p, char *s, char **argv, size_t *argc)
{
	size_t n = 0;

	for (;;) {
		while (blank(*s))
			s++;
		if (*s == '\0' || *s == '!' || *s == '#')
			break;
		if (n == LINE_ARGS_MAX)
			return perr(p, "too many words in one line (at most %d)", LINE_ARGS_MAX);
		if (*s == '"') {
			char *d = ++s, *end;

			argv[n++] = d;
			while (*s != '"') {
				if (*s == '\0')
					return perr(p, "unterminated quoted string");
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*d++ = *s++;
			}
			end = d;
			s++;
			*end = '\0';
			if (*s != '\0' && !blank(*s))
				return perr(p, "unexpected text after a closing quote");
			continue;
		}
		argv[n++] = s;
		while (*s != '\0' && !blank(*s))
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	*argc = n;
	return 0;
}

static void *
mode_obj(struct cfg_parser *p, const struct cfg_mode **m)
{
	struct cv_config *cfg = p->cfg;

	switch (p->mode) {
	case M_TRUSTPOINT:
		*m = &cfg_mode_trustpoint;
		return &cfg->trustpoints[p->idx];
	case M_TRUSTPOOL:
		*m = &cfg_mode_trustpool;
		return &cfg->trustpool;
	case M_MAP:
		*m = &cfg_mode_map;
		return &cfg->maps[p->idx];
	case M_ATTR_LIST:
		*m = &cfg_mode_attr_list;
		return &cfg->aaa_attr_lists[p->idx];
	case M_RADIUS:
		*m = &cfg_mode_radius;
		return &cfg->aaa_servers[p->idx];
	case M_LDAP:
		*m = &cfg_mode_ldap;
		return &cfg->aaa_servers[p->idx];
	case M_GLOBAL:
	case M_CHAIN:
	case M_SKIP:
		break;
	}
	*m = &cfg_mode_global;
	return cfg;
}

/* Whether a word starts a command of the table (an exact keyword or a prefix of one). */
static bool
starts_command(const struct cfg_mode *m, const char *word)
{
	for (size_t i = 0; i < m->n_cmds; i++)
		if (is_prefix(word, m->cmds[i].w[0]))
			return true;
	return false;
}

/* A line at the left margin that stays in the open block (see parse_line). */
static bool
continues_block(struct cfg_parser *p, char **argv, size_t argc)
{
	const struct cfg_mode *m;

	if (p->mode == M_CHAIN)
		return is_prefix(argv[0], "certificate");
	if (p->mode == M_GLOBAL || p->mode == M_SKIP || starts_command(&cfg_mode_global, argv[0]) ||
	    (argc == 1 && cv_strcasecmp(argv[0], "exit") == 0))
		return false;
	mode_obj(p, &m);
	if (!starts_command(m, argv[0]))
		return false;
	cv_config_warn(p->cfg, p->line,
	               "'%s' at the left margin: taken as part of the %s block above it", argv[0],
	               m->name);
	return true;
}

static int
parse_line(struct cfg_parser *p, char *line)
{
	char *argv[LINE_ARGS_MAX];
	size_t argc = 0;
	bool indented = blank(line[0]);
	const struct cfg_mode *m;
	void *obj;

	if (tokenize(p, line, argv, &argc) < 0)
		return -1;
	if (argc == 0)
		return 0;
	if (p->mode == M_CHAIN && p->in_hex)
		return chain_line(p, argv, argc);
	/* a line at the left margin ends the block, unless it is no global command but one of the
	 * block's: the manuals lose the indentation of chain, trustpoint and attribute-list lines
	 */
	if (!indented && !continues_block(p, argv, argc))
		p->mode = M_GLOBAL;
	if (argc == 1 && (cv_strcasecmp(argv[0], "exit") == 0 ||
	                  (p->mode == M_GLOBAL && cv_strcasecmp(argv[0], "end") == 0))) {
		p->mode = M_GLOBAL;
		return 0;
	}
	if (p->mode == M_CHAIN)
		return chain_line(p, argv, argc);
	if (p->mode == M_SKIP)
		return 0;
	obj = mode_obj(p, &m);
	return run_cmd(p, m, obj, argv, argc);
}

static void
parser_free(struct cfg_parser *p)
{
	for (size_t i = 0; i < p->n_chains; i++) {
		free(p->chains[i].name);
		cv_cert_list_free(&p->chains[i].certs);
	}
	free(p->chains);
	free(p->hex);
}

static int
compare_maps(const void *a, const void *b)
{
	const struct cv_map_entry *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The directory of the configuration file, made absolute so that dumps read back the same. */
static int
set_dir(struct cfg_parser *p, const char *name, const char *slash)
{
	char cwd[512];
	int n;

	if (name[0] == '/')
		n = snprintf(p->dir, sizeof(p->dir), "%.*s",
		             slash == name ? 1 : (int)(slash - name), name);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(p->dir, sizeof(p->dir), "%s/%.*s", cwd, (int)(slash - name), name);
	else
		n = snprintf(p->dir, sizeof(p->dir), "%.*s", (int)(slash - name), name);
	if (n < 0 || (size_t)n >= sizeof(p->dir)) {
		cv_error_set(p->err, "%s: path too long", name);
		return -1;
	}
	return 0;
}

int
cv_config_parse(const char *name, const char *text, size_t len, struct cv_config **out,
                struct cv_error *err)
{
	struct cfg_parser p = {.name = name, .err = err};
	char line[LINE_LEN_MAX + 2];
	const char *slash = strrchr(name, '/');
	size_t pos = 0;

	*out = NULL;
	if ((p.cfg = cv_config_new(name)) == NULL) {
		cv_error_set(err, "%s: out of memory", name);
		return -1;
	}
	if (slash != NULL && set_dir(&p, name, slash) < 0)
		goto fail;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (n > LINE_LEN_MAX) {
			perr(&p, "line longer than %d characters", LINE_LEN_MAX);
			goto fail;
		}
		if (memchr(text + pos, '\0', n) != NULL) {
			perr(&p, "NUL byte in the line");
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (parse_line(&p, line) < 0)
			goto fail;
	}
	if (p.in_hex) {
		p.line = p.cert_line;
		perr(&p, "certificate %s: no 'quit' before the end of the file", p.cert_serial);
		goto fail;
	}
	if (p.cfg->n_maps > 1)
		qsort(p.cfg->maps, p.cfg->n_maps, sizeof(*p.cfg->maps), compare_maps);
	if (cv_config_check(p.cfg, name, p.chains, p.n_chains, err) < 0)
		goto fail;
	parser_free(&p);
	*out = p.cfg;
	return 0;
fail:
	parser_free(&p);
	cv_config_unref(p.cfg);
	return -1;
}
