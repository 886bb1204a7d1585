/* config_impl.h: internals shared by the configuration parser, checker and dumper (not public). */
#ifndef CV_CONFIG_IMPL_H
#define CV_CONFIG_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define CFG_WORDS_MAX 5 /* keywords of the longest command */

/* What a table entry does with its arguments. */
enum cfg_kind {
	CFG_STR,    /* one argument stored as char * at off (replacing any earlier value) */
	CFG_TEXT,   /* the remaining arguments joined by single spaces, stored like CFG_STR */
	CFG_UINT,   /* unsigned at off, written value times scale, in min..max */
	CFG_SIZE,   /* size_t at off, in min..max */
	CFG_FLAG,   /* bool at off set to true; no argument */
	CFG_FUNC,   /* the handler does everything */
	CFG_IGNORE, /* enrollment-only command: accepted with a warning (O-25) */
};

/* Checks applied to CFG_STR values. */
enum cfg_check {
	CFG_ANY,
	CFG_PATH,      /* an input file: resolved against the configuration's directory */
	CFG_URL_HTTP,  /* http:// or https:// */
	CFG_URL_LDAP,  /* ldap:// */
	CFG_URL_LDAPS, /* ldap:// or ldaps:// */
	CFG_URL_PROXY, /* http://, https://, socks4://, socks5:// */
};

#define CFG_LEGACY 0x1u /* accepted but never dumped: another entry shows the value */
/*
 * The value holds a secret: a redacted dump writes <hidden> in its place, for a URL in place of
 * its userinfo (RFC 3986 3.2.1, credentials libcurl would send). Every row that takes a URL or
 * a key has it (the unit test `config` checks the URL rows).
 */
#define CFG_SECRET 0x2u
/*
 * CFG_IGNORE rows: a line that configures the router itself (hostname, tacacs-server, crypto pki
 * server, ...), as the manuals' full configurations hold; skipped with a warning naming it,
 * together with the indented lines of its block.
 */
#define CFG_ROUTER 0x4u
/* CFG_IGNORE rows: accepted silently, nothing to do (`aaa new-model`: AAA needs no switch). */
#define CFG_NOOP 0x8u

/* Where a dump goes and whether it may show the secrets. */
struct cfg_out {
	FILE *f;
	bool redact;
};

struct cfg_parser;
struct cfg_cmd;

typedef int (*cfg_handler)(struct cfg_parser *p, const struct cfg_cmd *cmd, void *obj, char **argv,
                           size_t argc);
typedef void (*cfg_dumper)(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                           const char *indent);

struct cfg_cmd {
	const char *w[CFG_WORDS_MAX]; /* keywords, NULL-terminated */
	const char *syntax;           /* arguments as shown in messages, "" for none */
	enum cfg_kind kind;
	size_t off; /* field offset inside the mode's object */
	enum cfg_check check;
	unsigned long long min, max, def; /* CFG_UINT, CFG_SIZE: range and default, as written */
	unsigned scale;                   /* CFG_UINT: stored value = written value * scale */
	const char *sdef;                 /* CFG_STR: the default (not dumped) */
	size_t min_args, max_args;        /* CFG_FUNC, CFG_IGNORE, CFG_TEXT */
	cfg_handler fn;
	cfg_dumper dump; /* CFG_FUNC: writes the running configuration of this command */
	unsigned flags;
};

/* One configuration mode: its name in messages and its command table. */
struct cfg_mode {
	const char *name;
	const struct cfg_cmd *cmds;
	size_t n_cmds;
};

extern const struct cfg_mode cfg_mode_global, cfg_mode_trustpoint, cfg_mode_trustpool, cfg_mode_map,
    cfg_mode_attr_list, cfg_mode_radius, cfg_mode_ldap;

/* A `crypto pki certificate chain NAME` block, attached to its trustpoint after parsing. */
struct cfg_chain {
	char *name;
	unsigned line;
	struct cv_cert_list certs;
};

/* config.c */
struct cv_config *cv_config_new(const char *path);
void cv_config_warn(struct cv_config *cfg, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *cv_config_grow(void *array, size_t *n, size_t elsize); /* appends one zeroed element */
void cv_rev_settings_init(struct cv_rev_settings *rev);
void cv_trustpoint_init(struct cv_trustpoint *tp); /* the defaults of a new, zeroed trustpoint */
void cv_match_rule_clear(struct cv_match_rule *m); /* frees the members, zeroes the rule */
void cv_aaa_list_clear(struct cv_aaa_list *l);     /* frees the members, zeroes the list */

/*
 * Vectors of named blocks (trustpoints, AAA lists, server groups, attribute lists, chains): n
 * elements of elsize bytes, each with a char *name at name_off. Returns the element called name,
 * or NULL; like strchr, the result is not const so that both kinds of caller can use it.
 */
void *cv_config_find(const void *v, size_t n, size_t elsize, size_t name_off, const char *name);
#define CFG_FIND(type, v, n, key)                                                                  \
	((type *)cv_config_find((v), (n), sizeof(type), offsetof(type, name), (key)))

/* config_check.c: cross references and certificates; err as "NAME:LINE: ..." */
int cv_config_check(struct cv_config *cfg, const char *name, struct cfg_chain *chains,
                    size_t n_chains, struct cv_error *err);

/* config_dump.c */
void cfg_dump_mode(const struct cfg_out *out, const struct cfg_mode *mode, const void *obj,
                   const char *indent);
/* The dumpers of the CFG_FUNC rows, of type cfg_dumper. */
#define CFG_DUMPER(name)                                                                           \
	void name(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,           \
	          const char *indent)
CFG_DUMPER(cfg_dump_str_field);
CFG_DUMPER(cfg_dump_socket_mode);
CFG_DUMPER(cfg_dump_timezone);
CFG_DUMPER(cfg_dump_http_listen);
CFG_DUMPER(cfg_dump_http_cert_header);
CFG_DUMPER(cfg_dump_radius);
CFG_DUMPER(cfg_dump_ldap);
CFG_DUMPER(cfg_dump_attr_lists);
CFG_DUMPER(cfg_dump_aaa_lists);
CFG_DUMPER(cfg_dump_maps);
CFG_DUMPER(cfg_dump_trustpoints);
CFG_DUMPER(cfg_dump_chains);
CFG_DUMPER(cfg_dump_trustpool);
CFG_DUMPER(cfg_dump_fingerprint);
CFG_DUMPER(cfg_dump_primary);
CFG_DUMPER(cfg_dump_revcheck);
CFG_DUMPER(cfg_dump_crl_files);
CFG_DUMPER(cfg_dump_crl_cache);
CFG_DUMPER(cfg_dump_crl_refresh_window);
CFG_DUMPER(cfg_dump_disable_nonce);
CFG_DUMPER(cfg_dump_nonce_if_echoed);
CFG_DUMPER(cfg_dump_ocsp_cache);
CFG_DUMPER(cfg_dump_matches);
CFG_DUMPER(cfg_dump_chain_validation);
CFG_DUMPER(cfg_dump_authz_username);
CFG_DUMPER(cfg_dump_weak);
CFG_DUMPER(cfg_dump_profile);
CFG_DUMPER(cfg_dump_relaxation);
CFG_DUMPER(cfg_dump_policies);
CFG_DUMPER(cfg_dump_bundles);
CFG_DUMPER(cfg_dump_radius_server);
CFG_DUMPER(cfg_dump_attrs);

#endif
