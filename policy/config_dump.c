/*
 * config_dump.c: the running configuration in canonical form. The command tables of
 * config_parse.c drive it: each mode is written in table order, legacy spellings never appear,
 * and values equal to their defaults are left out, so that parsing a dump gives the same dump.
 * A redacted dump writes <hidden> for the secrets of the rows marked CFG_SECRET: the secret is
 * left out at the source, never scrubbed from a text that holds it.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "config.h"
#include "config_impl.h"
#include "revocation.h"

#define FIELD(obj, cmd, type) ((const type *)((const char *)(obj) + (cmd)->off))
#define HIDDEN                "<hidden>" /* what a redacted dump shows for a secret */

static bool
needs_quotes(const char *s)
{
	if (s[0] == '\0' || s[0] == '!' || s[0] == '#')
		return true;
	/* every character the tokenizer takes as a word separator, not only ' ' and '\t' */
	return strpbrk(s, " \t\r\v\f\"\\") != NULL;
}

/* One argument, quoted when the tokenizer would otherwise split or drop it. */
static void
put_arg(const struct cfg_out *out, const char *s)
{
	if (!needs_quotes(s)) {
		fputs(s, out->f);
		return;
	}
	fputc('"', out->f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out->f);
		fputc(*s, out->f);
	}
	fputc('"', out->f);
}

/* Free text that the parser joins from several words: written as is unless that would not
 * read back the same. */
static void
put_text(const struct cfg_out *out, const char *s)
{
	bool plain = s[0] != '\0' && s[0] != ' ' && s[strlen(s) - 1] != ' ' &&
	             strpbrk(s, "\"\\\t\r\v\f") == NULL && strstr(s, "  ") == NULL &&
	             strstr(s, " !") == NULL && strstr(s, " #") == NULL && s[0] != '!' &&
	             s[0] != '#';

	if (plain)
		fputs(s, out->f);
	else
		put_arg(out, s);
}

/* A secret value: written as is, or as <hidden> in a redacted dump. */
static void
put_secret(const struct cfg_out *out, const struct cfg_cmd *cmd, const char *s)
{
	if (out->redact && (cmd->flags & CFG_SECRET))
		fputs(HIDDEN, out->f);
	else
		put_arg(out, s);
}

/*
 * A URL: written as is, or in a redacted dump with its userinfo (RFC 3986 3.2.1), everything
 * between "://" and the last '@', as <hidden>. Taking the last '@' of the whole URL hides a
 * password with unescaped '@', '/' or '?' in it too, at the price of hiding a host followed by
 * an '@' in its path.
 */
static void
put_url(const struct cfg_out *out, const struct cfg_cmd *cmd, const char *url)
{
	const char *start = strstr(url, "://"), *at = strrchr(url, '@');
	size_t size = strlen(url) + sizeof(HIDDEN);
	char *shown;

	if (!out->redact || !(cmd->flags & CFG_SECRET) || at == NULL) {
		put_arg(out, url);
		return;
	}
	shown = start != NULL && at >= start + 3 ? malloc(size) : NULL;
	if (shown == NULL) { /* no scheme, or out of memory: all of it is hidden */
		fputs(HIDDEN, out->f);
		return;
	}
	snprintf(shown, size, "%.*s%s%s", (int)(start + 3 - url), url, HIDDEN, at);
	put_arg(out, shown);
	free(shown);
}

static void
put_words(const struct cfg_out *out, const char *indent, const struct cfg_cmd *cmd)
{
	fputs(indent, out->f);
	for (size_t i = 0; i < CFG_WORDS_MAX && cmd->w[i] != NULL; i++)
		fprintf(out->f, "%s%s", i > 0 ? " " : "", cmd->w[i]);
}

/* The command's keywords and, unless NULL, its first argument; the line is left open. */
static void
put_cmd(const struct cfg_out *out, const char *indent, const struct cfg_cmd *cmd, const char *arg)
{
	put_words(out, indent, cmd);
	if (arg != NULL) {
		fputc(' ', out->f);
		put_arg(out, arg);
	}
}

static void
emit(const struct cfg_out *out, const char *indent, const struct cfg_cmd *cmd, const char *arg)
{
	put_cmd(out, indent, cmd, arg);
	fputc('\n', out->f);
}

/* A block: its opening line, its mode's commands indented, and the closing "!". */
static void
put_block(const struct cfg_out *out, const char *indent, const struct cfg_cmd *cmd,
          const char *name, const struct cfg_mode *mode, const void *obj)
{
	emit(out, indent, cmd, name);
	cfg_dump_mode(out, mode, obj, " ");
	fputs("!\n", out->f);
}

void
cfg_dump_mode(const struct cfg_out *out, const struct cfg_mode *mode, const void *obj,
              const char *indent)
{
	for (size_t i = 0; i < mode->n_cmds; i++) {
		const struct cfg_cmd *cmd = &mode->cmds[i];
		unsigned long long v;

		if ((cmd->flags & CFG_LEGACY) || cmd->kind == CFG_IGNORE)
			continue;
		switch (cmd->kind) {
		case CFG_STR:
		case CFG_TEXT: {
			const char *s = *FIELD(obj, cmd, char *);

			if (s == NULL || (cmd->sdef != NULL && strcmp(s, cmd->sdef) == 0))
				break;
			put_words(out, indent, cmd);
			fputc(' ', out->f);
			if (cmd->check >= CFG_URL_HTTP)
				put_url(out, cmd, s);
			else if (cmd->flags & CFG_SECRET)
				put_secret(out, cmd, s);
			else if (cmd->kind == CFG_TEXT)
				put_text(out, s);
			else
				put_arg(out, s);
			fputc('\n', out->f);
			break;
		}
		case CFG_UINT:
		case CFG_SIZE:
			v = cmd->kind == CFG_UINT ? *FIELD(obj, cmd, unsigned) / cmd->scale
			                          : *FIELD(obj, cmd, size_t);
			if (v != cmd->def) {
				put_words(out, indent, cmd);
				fprintf(out->f, " %llu\n", v);
			}
			break;
		case CFG_FLAG:
			if (*FIELD(obj, cmd, bool))
				emit(out, indent, cmd, NULL);
			break;
		case CFG_FUNC:
			if (cmd->dump != NULL)
				cmd->dump(out, cmd, obj, indent);
			break;
		case CFG_IGNORE:
			break;
		}
	}
}

static int
dump(const struct cv_config *cfg, FILE *f, bool redact)
{
	const struct cfg_out out = {f, redact};

	fprintf(f, "! certval running configuration (from %s)\n", cfg->path);
	cfg_dump_mode(&out, &cfg_mode_global, cfg, "");
	fputs("end\n", f);
	return ferror(f) ? -1 : 0;
}

int
cv_config_dump(const struct cv_config *cfg, FILE *out)
{
	return dump(cfg, out, false);
}

int
cv_config_dump_redacted(const struct cv_config *cfg, FILE *out)
{
	return dump(cfg, out, true);
}

/* ---- global settings ---- */

void
cfg_dump_str_field(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                   const char *indent)
{
	const char *s = *FIELD(obj, cmd, char *);

	if (s != NULL)
		emit(out, indent, cmd, s);
}

void
cfg_dump_socket_mode(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                     const char *indent)
{
	const struct cv_config *cfg = obj;

	if (cfg->socket_mode != 0660) {
		put_words(out, indent, cmd);
		fprintf(out->f, " %04o\n", cfg->socket_mode);
	}
}

void
cfg_dump_timezone(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                  const char *indent)
{
	const struct cv_config *cfg = obj;
	int off = cfg->tz_offset_min, h = off / 60, m = abs(off % 60);

	if (cfg->tz_name == NULL)
		return;
	put_cmd(out, indent, cmd, cfg->tz_name);
	fprintf(out->f, " %s%d", off < 0 && h == 0 ? "-" : "", h);
	if (m != 0)
		fprintf(out->f, " %d", m);
	fputc('\n', out->f);
}

void
cfg_dump_http_listen(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                     const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_http_listen; i++)
		emit(out, indent, cmd, cfg->http_listen[i]);
}

void
cfg_dump_http_cert_header(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                          const char *indent)
{
	const struct cv_config *cfg = obj;

	if (cfg->http_cert_format == CV_HTTP_CERT_NGINX && cfg->http_cert_header == NULL)
		return;
	put_cmd(out, indent, cmd, cv_http_cert_format_name(cfg->http_cert_format));
	if (cfg->http_cert_header != NULL) {
		fputc(' ', out->f);
		put_arg(out, cfg->http_cert_header);
	}
	fputc('\n', out->f);
}

/* ---- blocks ---- */

/* The server groups of one kind, under the command that opens them. */
static void
dump_servers(const struct cfg_out *out, const struct cfg_cmd *cmd, const struct cv_config *cfg,
             const char *indent, enum cv_aaa_server_kind kind, const struct cfg_mode *mode)
{
	for (size_t i = 0; i < cfg->n_aaa_servers; i++)
		if (cfg->aaa_servers[i].kind == kind)
			put_block(out, indent, cmd, cfg->aaa_servers[i].name, mode,
			          &cfg->aaa_servers[i]);
}

void
cfg_dump_radius(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                const char *indent)
{
	dump_servers(out, cmd, obj, indent, CV_AAA_SERVER_RADIUS, &cfg_mode_radius);
}

void
cfg_dump_ldap(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
              const char *indent)
{
	dump_servers(out, cmd, obj, indent, CV_AAA_SERVER_LDAP, &cfg_mode_ldap);
}

void
cfg_dump_radius_server(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                       const char *indent)
{
	const struct cv_aaa_server *s = obj;

	if (s->address == NULL)
		return;
	put_cmd(out, indent, cmd, s->address);
	if (s->port != 1812)
		fprintf(out->f, " auth-port %u", s->port);
	fputs(" key ", out->f);
	put_secret(out, cmd, s->secret != NULL ? s->secret : "");
	fputc('\n', out->f);
}

void
cfg_dump_attr_lists(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                    const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_aaa_attr_lists; i++)
		put_block(out, indent, cmd, cfg->aaa_attr_lists[i].name, &cfg_mode_attr_list,
		          &cfg->aaa_attr_lists[i]);
}

void
cfg_dump_attrs(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
               const char *indent)
{
	const struct cv_aaa_attr_list *l = obj;

	for (size_t i = 0; i < l->n_attrs; i++) {
		put_cmd(out, indent, cmd, l->attrs[i].type);
		fputc(' ', out->f);
		put_text(out, l->attrs[i].value);
		fputc('\n', out->f);
	}
}

void
cfg_dump_aaa_lists(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                   const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_aaa_lists; i++) {
		const struct cv_aaa_list *l = &cfg->aaa_lists[i];

		put_cmd(out, indent, cmd, l->name);
		for (size_t j = 0; j < l->n_methods; j++) {
			if (l->methods[j].kind == CV_AAA_METHOD_LOCAL) {
				fputs(" local", out->f);
				continue;
			}
			fputs(" group ", out->f);
			put_arg(out, l->methods[j].group);
		}
		fputc('\n', out->f);
	}
}

void
cfg_dump_maps(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
              const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_maps; i++) {
		const struct cv_map_entry *e = &cfg->maps[i];

		put_cmd(out, indent, cmd, e->label);
		fprintf(out->f, " %u\n", e->seq);
		for (size_t j = 0; j < e->n_lines; j++) {
			fprintf(out->f, " %s %s ", cv_map_field_name(e->lines[j].field),
			        cv_map_op_name(e->lines[j].op));
			put_text(out, e->lines[j].value);
			fputc('\n', out->f);
		}
		fputs("!\n", out->f);
	}
}

void
cfg_dump_trustpoints(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                     const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_trustpoints; i++)
		put_block(out, indent, cmd, cfg->trustpoints[i].name, &cfg_mode_trustpoint,
		          &cfg->trustpoints[i]);
}

/* The certificates of `crypto pki certificate chain` blocks, as IOS shows them. */
void
cfg_dump_chains(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_trustpoints; i++) {
		const struct cv_trustpoint *tp = &cfg->trustpoints[i];

		if (tp->n_inline_certs == 0)
			continue;
		emit(out, indent, cmd, tp->name);
		for (size_t j = tp->ca_certs.n - tp->n_inline_certs; j < tp->ca_certs.n; j++) {
			size_t len;
			const uint8_t *der = cv_cert_der(tp->ca_certs.v[j], &len);

			fprintf(out->f, " certificate ca %s", cv_cert_serial(tp->ca_certs.v[j]));
			for (size_t k = 0; k < len; k++) {
				if (k % 32 == 0)
					fputs("\n  ", out->f);
				else if (k % 4 == 0)
					fputc(' ', out->f);
				fprintf(out->f, "%02X", der[k]);
			}
			fputs("\n  quit\n", out->f);
		}
		fputs("!\n", out->f);
	}
}

void
cfg_dump_trustpool(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                   const char *indent)
{
	const struct cv_config *cfg = obj;

	if (cfg->trustpool.present)
		put_block(out, indent, cmd, NULL, &cfg_mode_trustpool, &cfg->trustpool);
}

/* ---- trustpoint and trustpool commands ---- */

void
cfg_dump_fingerprint(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                     const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	if (tp->fingerprint != NULL)
		emit(out, indent, cmd, tp->fingerprint);
}

void
cfg_dump_primary(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                 const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	if (tp->primary)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_revcheck(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                  const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (rev->n_methods == 1 && rev->methods[0] == cv_rev_method_find("crl"))
		return; /* R13: the default */
	put_words(out, indent, cmd);
	for (size_t i = 0; i < rev->n_methods; i++)
		fprintf(out->f, " %s", rev->methods[i]->name);
	fputc('\n', out->f);
}

void
cfg_dump_crl_files(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                   const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	for (size_t i = 0; i < rev->n_crl_files; i++)
		emit(out, indent, cmd, rev->crl_files[i]);
}

void
cfg_dump_crl_cache(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                   const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (rev->crl_cache == CV_CRL_CACHE_NONE)
		fprintf(out->f, "%scrl-cache none\n", indent);
	else if (rev->crl_cache == CV_CRL_CACHE_DELETE_AFTER)
		fprintf(out->f, "%scrl-cache delete-after %u\n", indent, rev->crl_delete_after_min);
}

void
cfg_dump_crl_refresh_window(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                            const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);
	char arg[24];

	if (rev->crl_refresh_s != 0)
		snprintf(arg, sizeof(arg), "%u", rev->crl_refresh_s);
	else if (rev->crl_refresh_pct != 10)
		snprintf(arg, sizeof(arg), "%u%%", rev->crl_refresh_pct);
	else
		return;
	emit(out, indent, cmd, arg);
}

void
cfg_dump_disable_nonce(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                       const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (rev->nonce == CV_NONCE_DISABLED)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_ocsp_cache(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                    const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (rev->ocsp_cache_s >= 0) {
		put_words(out, indent, cmd);
		fprintf(out->f, " %d\n", rev->ocsp_cache_s);
	}
}

void
cfg_dump_nonce_if_echoed(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                         const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (rev->nonce == CV_NONCE_IF_ECHOED)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_matches(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                 const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	for (size_t i = 0; i < rev->n_matches; i++) {
		const struct cv_match_rule *m = &rev->matches[i];

		put_cmd(out, indent, cmd, m->label);
		switch (m->kind) {
		case CV_MATCH_ACL:
			break;
		case CV_MATCH_ALLOW_EXPIRED:
			fputs(" allow expired-certificate", out->f);
			break;
		case CV_MATCH_SKIP_REVOCATION:
			fputs(" skip revocation-check", out->f);
			break;
		case CV_MATCH_SKIP_AUTHORIZATION:
			fputs(" skip authorization-check", out->f);
			break;
		case CV_MATCH_OVERRIDE_CDP:
			fprintf(out->f, " override cdp %s ",
			        m->cdp_is_directory ? "directory" : "url");
			if (m->cdp_is_directory)
				put_text(out, m->cdp);
			else
				put_url(out, cmd, m->cdp);
			break;
		case CV_MATCH_OVERRIDE_OCSP:
			fputs(" override ocsp", out->f);
			if (m->n_ocsp_trustpoints > 0)
				fputs(" trustpoint", out->f);
			for (size_t j = 0; j < m->n_ocsp_trustpoints; j++) {
				fputc(' ', out->f);
				put_arg(out, m->ocsp_trustpoints[j]);
			}
			fprintf(out->f, " %u url ", m->ocsp_seq);
			put_url(out, cmd, m->ocsp_url);
			break;
		}
		fputc('\n', out->f);
	}
}

void
cfg_dump_chain_validation(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                          const char *indent)
{
	const struct cv_rev_settings *rev = FIELD(obj, cmd, struct cv_rev_settings);

	if (rev->chain != CV_CHAIN_CONTINUE)
		return;
	put_words(out, indent, cmd);
	fputs(" continue", out->f);
	if (rev->chain_parent != NULL) {
		fputc(' ', out->f);
		put_arg(out, rev->chain_parent);
	}
	fputc('\n', out->f);
}

void
cfg_dump_authz_username(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                        const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	if (tp->authz_username != CV_SUBJ_ALL)
		emit(out, indent, cmd, cv_subject_field_name(tp->authz_username));
}

void
cfg_dump_weak(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
              const char *indent)
{
	uint32_t bits = *FIELD(obj, cmd, uint32_t);

	if (bits == 0)
		return;
	put_words(out, indent, cmd);
	for (unsigned i = 0; i < CV_WEAK_ALG_COUNT; i++)
		if (bits & (1u << i))
			fprintf(out->f, " %s", cv_weak_alg_name(1u << i));
	fputc('\n', out->f);
}

/* validation-profile NAME, omitted for the default (rfc5280). */
void
cfg_dump_profile(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                 const char *indent)
{
	const enum cv_profile profile = *FIELD(obj, cmd, enum cv_profile);

	if (profile != CV_PROFILE_RFC5280)
		emit(out, indent, cmd, cv_profile_name(profile));
}

/* A relaxation command (allow-cn-fallback): the bit cmd->def of the relaxations at off. */
void
cfg_dump_relaxation(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                    const char *indent)
{
	if (*FIELD(obj, cmd, uint32_t) & (uint32_t)cmd->def)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_policies(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                  const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	for (size_t i = 0; i < tp->n_policies; i++)
		emit(out, indent, cmd, tp->policies[i]);
}

void
cfg_dump_bundles(const struct cfg_out *out, const struct cfg_cmd *cmd, const void *obj,
                 const char *indent)
{
	const struct cv_trustpool *tpool = obj;

	for (size_t i = 0; i < tpool->n_bundle_paths; i++)
		emit(out, indent, cmd, tpool->bundle_paths[i]);
}
