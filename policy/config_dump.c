/*
 * config_dump.c: the running configuration in canonical form. The command tables of
 * config_parse.c drive it: each mode is written in table order, legacy spellings never appear,
 * and values equal to their defaults are left out, so that parsing a dump gives the same dump.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "config.h"
#include "config_impl.h"

#define FIELD(obj, cmd, type) ((const type *)((const char *)(obj) + (cmd)->off))

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
put_arg(FILE *out, const char *s)
{
	if (!needs_quotes(s)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Free text that the parser joins from several words: written as is unless that would not
 * read back the same. */
static void
put_text(FILE *out, const char *s)
{
	bool plain = s[0] != '\0' && s[0] != ' ' && s[strlen(s) - 1] != ' ' &&
	             strpbrk(s, "\"\\\t\r\v\f") == NULL && strstr(s, "  ") == NULL &&
	             strstr(s, " !") == NULL && strstr(s, " #") == NULL && s[0] != '!' &&
	             s[0] != '#';

	if (plain)
		fputs(s, out);
	else
		put_arg(out, s);
}

static void
put_words(FILE *out, const char *indent, const struct cfg_cmd *cmd)
{
	fputs(indent, out);
	for (size_t i = 0; i < CFG_WORDS_MAX && cmd->w[i] != NULL; i++)
		fprintf(out, "%s%s", i > 0 ? " " : "", cmd->w[i]);
}

/* The command's keywords and, unless NULL, its first argument; the line is left open. */
static void
put_cmd(FILE *out, const char *indent, const struct cfg_cmd *cmd, const char *arg)
{
	put_words(out, indent, cmd);
	if (arg != NULL) {
		fputc(' ', out);
		put_arg(out, arg);
	}
}

static void
emit(FILE *out, const char *indent, const struct cfg_cmd *cmd, const char *arg)
{
	put_cmd(out, indent, cmd, arg);
	fputc('\n', out);
}

/* A block: its opening line, its mode's commands indented, and the closing "!". */
static void
put_block(FILE *out, const char *indent, const struct cfg_cmd *cmd, const char *name,
          const struct cfg_mode *mode, const void *obj)
{
	emit(out, indent, cmd, name);
	cfg_dump_mode(out, mode, obj, " ");
	fputs("!\n", out);
}

void
cfg_dump_mode(FILE *out, const struct cfg_mode *mode, const void *obj, const char *indent)
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
			fputc(' ', out);
			if (cmd->kind == CFG_TEXT)
				put_text(out, s);
			else
				put_arg(out, s);
			fputc('\n', out);
			break;
		}
		case CFG_UINT:
		case CFG_SIZE:
			v = cmd->kind == CFG_UINT ? *FIELD(obj, cmd, unsigned) / cmd->scale
			                          : *FIELD(obj, cmd, size_t);
			if (v != cmd->def) {
				put_words(out, indent, cmd);
				fprintf(out, " %llu\n", v);
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

int
cv_config_dump(const struct cv_config *cfg, FILE *out)
{
	fprintf(out, "! certval running configuration (from %s)\n", cfg->path);
	cfg_dump_mode(out, &cfg_mode_global, cfg, "");
	fputs("end\n", out);
	return ferror(out) ? -1 : 0;
}

/* ---- global settings ---- */

void
cfg_dump_str_field(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const char *s = *FIELD(obj, cmd, char *);

	if (s != NULL)
		emit(out, indent, cmd, s);
}

void
cfg_dump_socket_mode(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_config *cfg = obj;

	if (cfg->socket_mode != 0660) {
		put_words(out, indent, cmd);
		fprintf(out, " %04o\n", cfg->socket_mode);
	}
}

void
cfg_dump_timezone(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_config *cfg = obj;
	int off = cfg->tz_offset_min, h = off / 60, m = abs(off % 60);

	if (cfg->tz_name == NULL)
		return;
	put_cmd(out, indent, cmd, cfg->tz_name);
	fprintf(out, " %s%d", off < 0 && h == 0 ? "-" : "", h);
	if (m != 0)
		fprintf(out, " %d", m);
	fputc('\n', out);
}

/* ---- blocks ---- */

/* The server groups of one kind, under the command that opens them. */
static void
dump_servers(FILE *out, const struct cfg_cmd *cmd, const struct cv_config *cfg, const char *indent,
             enum cv_aaa_server_kind kind, const struct cfg_mode *mode)
{
	for (size_t i = 0; i < cfg->n_aaa_servers; i++)
		if (cfg->aaa_servers[i].kind == kind)
			put_block(out, indent, cmd, cfg->aaa_servers[i].name, mode,
			          &cfg->aaa_servers[i]);
}

void
cfg_dump_radius(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	dump_servers(out, cmd, obj, indent, CV_AAA_SERVER_RADIUS, &cfg_mode_radius);
}

void
cfg_dump_ldap(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	dump_servers(out, cmd, obj, indent, CV_AAA_SERVER_LDAP, &cfg_mode_ldap);
}

void
cfg_dump_radius_server(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_aaa_server *s = obj;

	if (s->address == NULL)
		return;
	put_cmd(out, indent, cmd, s->address);
	if (s->port != 1812)
		fprintf(out, " auth-port %u", s->port);
	fputs(" key ", out);
	put_arg(out, s->secret != NULL ? s->secret : "");
	fputc('\n', out);
}

void
cfg_dump_attr_lists(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_aaa_attr_lists; i++)
		put_block(out, indent, cmd, cfg->aaa_attr_lists[i].name, &cfg_mode_attr_list,
		          &cfg->aaa_attr_lists[i]);
}

void
cfg_dump_attrs(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_aaa_attr_list *l = obj;

	for (size_t i = 0; i < l->n_attrs; i++) {
		put_cmd(out, indent, cmd, l->attrs[i].type);
		fputc(' ', out);
		put_text(out, l->attrs[i].value);
		fputc('\n', out);
	}
}

void
cfg_dump_aaa_lists(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_aaa_lists; i++) {
		const struct cv_aaa_list *l = &cfg->aaa_lists[i];

		put_cmd(out, indent, cmd, l->name);
		for (size_t j = 0; j < l->n_methods; j++) {
			if (l->methods[j].kind == CV_AAA_METHOD_LOCAL) {
				fputs(" local", out);
				continue;
			}
			fputs(" group ", out);
			put_arg(out, l->methods[j].group);
		}
		fputc('\n', out);
	}
}

void
cfg_dump_maps(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_maps; i++) {
		const struct cv_map_entry *e = &cfg->maps[i];

		put_cmd(out, indent, cmd, e->label);
		fprintf(out, " %u\n", e->seq);
		for (size_t j = 0; j < e->n_lines; j++) {
			fprintf(out, " %s %s ", cv_map_field_name(e->lines[j].field),
			        cv_map_op_name(e->lines[j].op));
			put_text(out, e->lines[j].value);
			fputc('\n', out);
		}
		fputs("!\n", out);
	}
}

void
cfg_dump_trustpoints(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_config *cfg = obj;

	for (size_t i = 0; i < cfg->n_trustpoints; i++)
		put_block(out, indent, cmd, cfg->trustpoints[i].name, &cfg_mode_trustpoint,
		          &cfg->trustpoints[i]);
}

/* The certificates of `crypto pki certificate chain` blocks, as IOS shows them. */
void
cfg_dump_chains(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
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

			fprintf(out, " certificate ca %s", cv_cert_serial(tp->ca_certs.v[j]));
			for (size_t k = 0; k < len; k++) {
				if (k % 32 == 0)
					fputs("\n  ", out);
				else if (k % 4 == 0)
					fputc(' ', out);
				fprintf(out, "%02X", der[k]);
			}
			fputs("\n  quit\n", out);
		}
		fputs("!\n", out);
	}
}

void
cfg_dump_trustpool(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_config *cfg = obj;

	if (cfg->trustpool.present)
		put_block(out, indent, cmd, NULL, &cfg_mode_trustpool, &cfg->trustpool);
}

/* ---- trustpoint and trustpool commands ---- */

void
cfg_dump_fingerprint(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	if (tp->fingerprint != NULL)
		emit(out, indent, cmd, tp->fingerprint);
}

void
cfg_dump_primary(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	if (tp->primary)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_revcheck(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_rev_policy *rev = FIELD(obj, cmd, struct cv_rev_policy);

	if (rev->n_methods == 1 && rev->methods[0] == CV_METHOD_CRL)
		return;
	put_words(out, indent, cmd);
	for (size_t i = 0; i < rev->n_methods; i++)
		fprintf(out, " %s", cv_rev_method_name(rev->methods[i]));
	fputc('\n', out);
}

void
cfg_dump_crl_files(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_rev_policy *rev = FIELD(obj, cmd, struct cv_rev_policy);

	for (size_t i = 0; i < rev->n_crl_files; i++)
		emit(out, indent, cmd, rev->crl_files[i]);
}

void
cfg_dump_crl_cache(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_rev_policy *rev = FIELD(obj, cmd, struct cv_rev_policy);

	if (rev->crl_cache == CV_CRL_CACHE_NONE)
		fprintf(out, "%scrl-cache none\n", indent);
	else if (rev->crl_cache == CV_CRL_CACHE_DELETE_AFTER)
		fprintf(out, "%scrl-cache delete-after %u\n", indent, rev->crl_delete_after_min);
}

void
cfg_dump_disable_nonce(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_rev_policy *rev = FIELD(obj, cmd, struct cv_rev_policy);

	if (rev->nonce == CV_NONCE_DISABLED)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_nonce_if_echoed(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_rev_policy *rev = FIELD(obj, cmd, struct cv_rev_policy);

	if (rev->nonce == CV_NONCE_IF_ECHOED)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_matches(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_rev_policy *rev = FIELD(obj, cmd, struct cv_rev_policy);

	for (size_t i = 0; i < rev->n_matches; i++) {
		const struct cv_match_rule *m = &rev->matches[i];

		put_cmd(out, indent, cmd, m->label);
		switch (m->kind) {
		case CV_MATCH_ACL:
			break;
		case CV_MATCH_ALLOW_EXPIRED:
			fputs(" allow expired-certificate", out);
			break;
		case CV_MATCH_SKIP_REVOCATION:
			fputs(" skip revocation-check", out);
			break;
		case CV_MATCH_SKIP_AUTHORIZATION:
			fputs(" skip authorization-check", out);
			break;
		case CV_MATCH_OVERRIDE_CDP:
			fprintf(out, " override cdp %s ",
			        m->cdp_is_directory ? "directory" : "url");
			put_text(out, m->cdp);
			break;
		case CV_MATCH_OVERRIDE_OCSP:
			fputs(" override ocsp", out);
			if (m->n_ocsp_trustpoints > 0)
				fputs(" trustpoint", out);
			for (size_t j = 0; j < m->n_ocsp_trustpoints; j++) {
				fputc(' ', out);
				put_arg(out, m->ocsp_trustpoints[j]);
			}
			fprintf(out, " %u url ", m->ocsp_seq);
			put_arg(out, m->ocsp_url);
			break;
		}
		fputc('\n', out);
	}
}

void
cfg_dump_chain_validation(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_rev_policy *rev = FIELD(obj, cmd, struct cv_rev_policy);

	if (rev->chain != CV_CHAIN_CONTINUE)
		return;
	put_words(out, indent, cmd);
	fputs(" continue", out);
	if (rev->chain_parent != NULL) {
		fputc(' ', out);
		put_arg(out, rev->chain_parent);
	}
	fputc('\n', out);
}

void
cfg_dump_authz_username(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	if (tp->authz_username != CV_SUBJ_ALL)
		emit(out, indent, cmd, cv_subject_field_name(tp->authz_username));
}

void
cfg_dump_weak(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	uint32_t bits = *FIELD(obj, cmd, uint32_t);

	if (bits == 0)
		return;
	put_words(out, indent, cmd);
	for (unsigned i = 0; i < CV_WEAK_ALG_COUNT; i++)
		if (bits & (1u << i))
			fprintf(out, " %s", cv_weak_alg_name(1u << i));
	fputc('\n', out);
}

/* validation-profile NAME, omitted for the default (rfc5280). */
void
cfg_dump_profile(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const enum cv_profile profile = *FIELD(obj, cmd, enum cv_profile);

	if (profile != CV_PROFILE_RFC5280)
		emit(out, indent, cmd, cv_profile_name(profile));
}

/* A relaxation command (allow-cn-fallback): the bit cmd->def of the relaxations at off. */
void
cfg_dump_relaxation(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	if (*FIELD(obj, cmd, uint32_t) & (uint32_t)cmd->def)
		emit(out, indent, cmd, NULL);
}

void
cfg_dump_policies(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_trustpoint *tp = obj;

	for (size_t i = 0; i < tp->n_policies; i++)
		emit(out, indent, cmd, tp->policies[i]);
}

void
cfg_dump_bundles(FILE *out, const struct cfg_cmd *cmd, const void *obj, const char *indent)
{
	const struct cv_trustpool *tpool = obj;

	for (size_t i = 0; i < tpool->n_bundle_paths; i++)
		emit(out, indent, cmd, tpool->bundle_paths[i]);
}
