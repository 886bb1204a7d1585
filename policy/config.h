/*
 * config.h: the configuration model of certvald, as loaded from the IOS-style file.
 *
 * A configuration is loaded whole or not at all, is immutable once loaded, and is reference
 * counted so that requests in flight keep the one they started with across a reload.
 */
#ifndef CV_CONFIG_H
#define CV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../validator/cert.h"
#include "../validator/path.h"

/* ---- certificate maps: crypto pki certificate map LABEL SEQ ---- */

enum cv_map_field {
	CV_MAP_ALT_SUBJECT_NAME,
	CV_MAP_EXPIRES_ON,
	CV_MAP_ISSUER_NAME,
	CV_MAP_NAME,
	CV_MAP_SERIAL_NUMBER,
	CV_MAP_SUBJECT_NAME,
	CV_MAP_UNSTRUCTURED_SUBJECT_NAME,
	CV_MAP_VALID_START,
};

enum cv_map_op { CV_MAP_EQ, CV_MAP_NE, CV_MAP_CO, CV_MAP_NC, CV_MAP_LT, CV_MAP_GE };

struct cv_map_line {
	enum cv_map_field field;
	enum cv_map_op op;
	char *value;   /* names: lower-cased, spaces around '=' and ',' removed (R34, O-16);
	                  serials: as written, compared case-insensitively */
	cv_time date;  /* expires-on, valid-start: the parsed instant (UTC) */
	unsigned line; /* line number in the file */
};

struct cv_map_entry {
	char *label;
	unsigned seq;
	struct cv_map_line *lines;
	size_t n_lines;
	unsigned line;
};

/* ---- trustpoints ---- */

/* A revocation method: a row of the method table (revocation.h). */
struct cv_rev_method;
/* Room for one revocation-check list; each method appears once (revocation.c asserts that
 * the table fits). */
#define CV_REV_METHODS_MAX 8

enum cv_crl_cache_mode {
	CV_CRL_CACHE_DEFAULT,      /* until nextUpdate */
	CV_CRL_CACHE_NONE,         /* crl-cache none */
	CV_CRL_CACHE_DELETE_AFTER, /* crl-cache delete-after N (minutes, 1..43200) */
};

enum cv_nonce_policy { CV_NONCE_REQUIRE, CV_NONCE_IF_ECHOED, CV_NONCE_DISABLED };

enum cv_chain_validation { CV_CHAIN_STOP, CV_CHAIN_CONTINUE };

enum cv_match_kind {
	CV_MATCH_ACL,                /* match certificate L */
	CV_MATCH_ALLOW_EXPIRED,      /* match certificate L allow expired-certificate */
	CV_MATCH_SKIP_REVOCATION,    /* match certificate L skip revocation-check */
	CV_MATCH_SKIP_AUTHORIZATION, /* match certificate L skip authorization-check */
	CV_MATCH_OVERRIDE_CDP,       /* match certificate L override cdp {url|directory} S */
	CV_MATCH_OVERRIDE_OCSP, /* match certificate L override ocsp [trustpoint TP..] SEQ url U */
};

#define CV_OVERRIDE_TP_MAX 8

struct cv_match_rule {
	enum cv_match_kind kind;
	char *label;
	char *cdp; /* override cdp: the URL or directory */
	bool cdp_is_directory;
	unsigned ocsp_seq; /* override ocsp */
	char *ocsp_url;
	char *ocsp_trustpoints[CV_OVERRIDE_TP_MAX];
	size_t n_ocsp_trustpoints;
	unsigned line;
};

/* The AAA username source (authorization username subjectname FIELD). */
enum cv_subject_field {
	CV_SUBJ_ALL,
	CV_SUBJ_COMMONNAME,
	CV_SUBJ_COUNTRY,
	CV_SUBJ_EMAIL,
	CV_SUBJ_IPADDRESS,
	CV_SUBJ_LOCALITY,
	CV_SUBJ_ORGANIZATION,
	CV_SUBJ_ORGANIZATIONALUNIT,
	CV_SUBJ_POSTALCODE,
	CV_SUBJ_SERIALNUMBER,
	CV_SUBJ_STATE,
	CV_SUBJ_STREETADDRESS,
	CV_SUBJ_TITLE,
	CV_SUBJ_UNSTRUCTUREDNAME,
};

/*
 * Revocation and map settings shared by trustpoints and the trustpool policy block (the IOS
 * command `crypto pki trustpool policy`).
 */
struct cv_rev_settings {
	const struct cv_rev_method *methods[CV_REV_METHODS_MAX]; /* rows of the method table */
	size_t n_methods;                                        /* default: { crl } */
	char *crl_query_url; /* crl query / query url: ldap://host[:port][/DN] */
	char **crl_files;    /* crl file PATH: CRLs loaded from disk (product) */
	size_t n_crl_files;
	enum cv_crl_cache_mode crl_cache;
	unsigned crl_delete_after_min;
	/* crl refresh-window: how long before a cached CRL's expiry its background refresh may
	 * start, a percentage of the CRL's life (default 10) or, when crl_refresh_s is not 0, a
	 * duration in seconds (issue 16) */
	unsigned crl_refresh_pct;
	unsigned crl_refresh_s;
	char *ocsp_url;
	enum cv_nonce_policy nonce;
	unsigned nonce_length; /* 1..32, default 16 */
	/* ocsp cache-lifetime SECONDS (product): how long an OCSP answer of this trustpoint is
	 * reused, 0 = never; -1 (unset): until the answer's own validity, except under
	 * `ocsp nonce require`, where each validation asks afresh */
	int ocsp_cache_s;
	struct cv_match_rule *matches;
	size_t n_matches;
	enum cv_chain_validation chain;
	char *chain_parent;  /* chain-validation continue PARENT */
	unsigned chain_line; /* line of the chain-validation command, 0 if none */
};

struct cv_trustpoint {
	char *name;
	unsigned line;
	char *ca_cert_path;
	struct cv_cert_list ca_certs; /* loaded from ca-certificate or a certificate chain block */
	char *fingerprint;            /* normalised: upper-case hex, no separators */
	bool authenticated;           /* CA loaded and fingerprint (if any) matched */
	char auth_error[160];         /* why not authenticated */
	bool primary;
	struct cv_rev_settings rev;
	char *authz_list;
	enum cv_subject_field authz_username;
	char *source_interface;
	char *vrf;
	bool aia_fetch;        /* aia-fetch: missing issuers from the AIA caIssuers URL (product) */
	uint32_t allowed_weak; /* allow-weak-signature sha1|md5|dsa|rsa-1024 (enum cv_weak_alg) */
	/* Validation settings (product), shared with the trustpool policy block. */
	enum cv_profile profile; /* validation-profile rfc5280|webpki (default rfc5280) */
	unsigned chain_depth;    /* chain-depth N: certificates in a path, anchor included */
	uint32_t relaxations;    /* allow-cn-fallback, ...: enum cv_relaxation bits */
	/* RFC 5280 initial inputs (product): policy OID, explicit-policy, inhibit-* */
	char **policies;
	size_t n_policies;
	bool explicit_policy;
	bool inhibit_policy_mapping;
	bool inhibit_any_policy;
	size_t n_inline_certs; /* the last n of ca_certs came from `crypto pki certificate chain` */
	unsigned ca_cert_line; /* line of ca-certificate, 0 if none */
	unsigned authz_line;   /* line of authorization list, 0 if none */
};

struct cv_trustpool {
	bool present;
	char **bundle_paths;
	size_t n_bundle_paths;
	struct cv_cert_list ca_certs;
	struct cv_rev_settings rev;
	uint32_t allowed_weak;
	enum cv_profile profile; /* as in struct cv_trustpoint */
	unsigned chain_depth;
	uint32_t relaxations;
	unsigned line; /* line of `crypto pki trustpool policy` */
};

/* ---- AAA (D-2): lists, servers and local attribute lists ---- */

enum cv_aaa_method_kind { CV_AAA_METHOD_GROUP, CV_AAA_METHOD_LOCAL };

struct cv_aaa_method {
	enum cv_aaa_method_kind kind;
	char *group; /* a server group name for CV_AAA_METHOD_GROUP */
};

#define CV_AAA_METHODS_MAX 4

struct cv_aaa_list {
	char *name;
	struct cv_aaa_method methods[CV_AAA_METHODS_MAX];
	size_t n_methods;
	unsigned line;
};

enum cv_aaa_server_kind { CV_AAA_SERVER_RADIUS, CV_AAA_SERVER_LDAP };

struct cv_aaa_server {
	char *name; /* the group name */
	enum cv_aaa_server_kind kind;
	char *address;      /* radius: host; ldap: URL */
	unsigned port;      /* radius auth port (default 1812) */
	char *secret;       /* radius shared secret */
	char *base_dn;      /* ldap: search base */
	char *attribute;    /* ldap: attribute holding the pki: AV pairs (default "ciscoAVPair") */
	unsigned timeout_s; /* default 5 */
	unsigned line;
};

struct cv_aaa_attr {
	char *type; /* "cert-serial-not", "cert-application", "cert-lifetime-end", ... */
	char *value;
};

struct cv_aaa_attr_list {
	char *name;
	struct cv_aaa_attr *attrs;
	size_t n_attrs;
	unsigned line;
};

/* ---- the HTTP front (certvald's auth-subrequest and metrics listener) ---- */

/*
 * How a reverse proxy passes the client certificate to `GET /v1/auth` (http client-cert-header
 * FORMAT [HEADER]); ipc/http_certs.c has one row per format, in this order.
 */
enum cv_http_cert_format {
	CV_HTTP_CERT_NGINX,   /* $ssl_client_escaped_cert: URL-encoded PEM, the leaf only */
	CV_HTTP_CERT_ENVOY,   /* x-forwarded-client-cert: Cert="..." and Chain="..." */
	CV_HTTP_CERT_TRAEFIK, /* X-Forwarded-Tls-Client-Cert: base64 DER, comma-separated */
	CV_HTTP_CERT_CADDY,   /* a placeholder: base64 DER or PEM */
	CV_HTTP_CERT_FORMATS  /* not a format: their number */
};

#define CV_HTTP_LISTEN_MAX 4 /* http listen lines */

/* ---- the whole configuration ---- */

struct cv_config_warning {
	unsigned line;
	char text[240];
};

struct cv_config {
	unsigned refs;
	char *path; /* the file it came from, or "<adhoc>" */

	/* global settings */
	char *socket_path;            /* default /run/certval/certvald.sock */
	unsigned socket_mode;         /* default 0660 */
	char *admin_group;            /* group whose members may run admin operations */
	char *cache_dir;              /* NULL: nothing persisted */
	size_t max_request_bytes;     /* default 1 MiB */
	unsigned request_timeout_ms;  /* default 30000 */
	unsigned workers;             /* validation threads, 0 (default): one per core */
	unsigned max_connections;     /* socket clients at once, default 4096 */
	size_t crl_max_bytes;         /* default 64 MiB */
	size_t ocsp_max_bytes;        /* default 64 KiB */
	unsigned fetch_timeout_ms;    /* default 10000 */
	unsigned fetch_retry_after_s; /* default 10 */
	char *fetch_proxy;
	int tz_offset_min; /* clock timezone NAME HOURS [MINUTES], default 0 (UTC) */
	char *tz_name;
	unsigned aaa_cache_s;           /* default 0 */
	char *radius_source;            /* ip radius source-interface IF|ADDRESS: NAS-IP-Address */
	unsigned ocsp_skew_s;           /* ocsp clock-skew: thisUpdate tolerance, default 300 */
	unsigned ocsp_no_next_update_s; /* ocsp no-next-update-lifetime, default 300 */
	/* HTTP front (off without http listen): unix:PATH, IPv4:PORT or [IPv6]:PORT */
	char **http_listen; /* at most CV_HTTP_LISTEN_MAX */
	size_t n_http_listen;
	size_t http_max_body;    /* http max-body, default 64 KiB */
	size_t http_max_header;  /* http max-header, default 32 KiB (all headers together) */
	unsigned http_timeout_s; /* http timeout: read/write of one connection, default 10 */
	enum cv_http_cert_format http_cert_format; /* default nginx */
	char *http_cert_header;                    /* NULL: the format's usual header */
	char *http_trustpoint;                     /* default trustpoint of /v1/auth, or NULL */
	unsigned http_trustpoint_line;             /* its line, for the reference check */
	/* intermediate-pool FILE: CA certificates that are not trust anchors, offered to path
	 * building for peers (such as nginx's) that send their leaf only */
	char *intermediate_pool_path;
	struct cv_cert_list intermediate_pool;
	unsigned verdict_cache_entries; /* verdict-cache entries, default 2048; 0: off */

	struct cv_trustpoint *trustpoints;
	size_t n_trustpoints;
	struct cv_map_entry *maps; /* sorted by label, then seq */
	size_t n_maps;
	struct cv_trustpool trustpool;
	struct cv_aaa_list *aaa_lists;
	size_t n_aaa_lists;
	struct cv_aaa_server *aaa_servers;
	size_t n_aaa_servers;
	struct cv_aaa_attr_list *aaa_attr_lists;
	size_t n_aaa_attr_lists;

	struct cv_config_warning *warnings;
	size_t n_warnings;
};

/*
 * Loads and checks a configuration file: syntax, references (maps, parents, AAA lists),
 * certificate files. On error returns -1 and err says "FILE:LINE: what was expected".
 * The result has one reference.
 */
int cv_config_load(const char *path, struct cv_config **out, struct cv_error *err);

/* The same from text in memory; name is used in messages in place of a file name. */
int cv_config_parse(const char *name, const char *text, size_t len, struct cv_config **out,
                    struct cv_error *err);

struct cv_config *cv_config_ref(struct cv_config *cfg);
void cv_config_unref(struct cv_config *cfg); /* NULL is fine */

/*
 * Writes the running configuration in canonical form (crypto pki trustpoint, modern spellings),
 * secrets included: parsing the dump gives the same dump.
 */
int cv_config_dump(const struct cv_config *cfg, FILE *out);

/*
 * The same for `show running-config`, whose readers need not be allowed to read the file: each
 * secret (a RADIUS key, the userinfo of a configured URL) is written as <hidden> and never
 * reaches out. The rows that hold secrets are marked CFG_SECRET in config_parse.c's tables.
 */
int cv_config_dump_redacted(const struct cv_config *cfg, FILE *out);

const struct cv_trustpoint *cv_config_trustpoint(const struct cv_config *cfg, const char *name);
const struct cv_map_entry *cv_config_map_first(const struct cv_config *cfg, const char *label,
                                               size_t *count); /* all SEQs of label, in order */

const char *cv_subject_field_name(enum cv_subject_field f); /* "commonname", ... */

/* Added for the parser and the displays. */
const char *cv_map_field_name(enum cv_map_field f);     /* "subject-name", ... */
const char *cv_map_op_name(enum cv_map_op op);          /* "eq", "ne", "co", "nc", "lt", "ge" */
const char *cv_nonce_policy_name(enum cv_nonce_policy); /* "require", "if-echoed", "disabled" */
/* "nginx", "envoy", "traefik", "caddy"; cv_http_cert_format_from_name returns 0 or -1. */
const char *cv_http_cert_format_name(enum cv_http_cert_format f);
int cv_http_cert_format_from_name(const char *name, enum cv_http_cert_format *out);

/* The aaa authorization list / server group / attribute list of that name, or NULL. */
const struct cv_aaa_list *cv_config_aaa_list(const struct cv_config *cfg, const char *name);
const struct cv_aaa_server *cv_config_aaa_server(const struct cv_config *cfg, const char *name);
const struct cv_aaa_attr_list *cv_config_aaa_attr_list(const struct cv_config *cfg,
                                                       const char *name);

#endif
