/*
 * admin.c: the daemon's administrator operations (show, clear): one table of views for show
 * and one for clear, each view in its own file (admin_<view>.c, through the engine's and the
 * stores' accessors), the JSON helpers they share, and the administrator state with its
 * expiry notices (admin_expiry.c) (SPEC R50-R58, O-3, O-24).
 */
#include <stdlib.h>

#include "../common/util.h"
#include "admin_int.h"

json_t *
admin_jstr(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	return j != NULL ? j : json_null();
}

json_t *
admin_rdn_lines(const char *dn)
{
	json_t *arr = json_array();
	const char *start = dn;

	for (const char *p = dn; arr != NULL && dn[0] != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p != ',' && *p != '\0')
			continue;
		json_array_append_new(arr, json_stringn(start, (size_t)(p - start)));
		if (*p == '\0')
			break;
		start = p + 1;
	}
	return arr;
}

static void
set_error(enum cv_proto_code *code, enum cv_proto_code value, struct cv_error *err, const char *msg)
{
	*code = value;
	cv_error_set(err, "%s", msg);
}

/* The trustpoint named in a request, or NULL with an error when it does not exist. */
static int
request_trustpoint(const struct cv_config *cfg, const struct cv_proto_admin_req *req,
                   const struct cv_trustpoint **tp, enum cv_proto_code *code, struct cv_error *err)
{
	*tp = NULL;
	if (req->trustpoint[0] == '\0')
		return 0;
	*tp = cv_config_trustpoint(cfg, req->trustpoint);
	if (*tp != NULL)
		return 0;
	*code = CV_PROTO_BAD_REQUEST;
	cv_error_set(err, "no trustpoint \"%s\" in the running configuration", req->trustpoint);
	return -1;
}

/* ---- the operations: one table of views for show, one for clear ---- */

/* A show view: the object for the request; tp is the request's trustpoint, or NULL. */
typedef json_t *(*show_view)(struct cv_admin *a, const struct cv_proto_admin_req *req,
                             const struct cv_trustpoint *tp);

static const show_view show_views[] = {
    [CV_VIEW_CRLS] = admin_view_crls,
    [CV_VIEW_OCSP] = admin_view_ocsp,
    [CV_VIEW_FETCH] = admin_view_fetch,
    [CV_VIEW_TRUSTPOINTS] = admin_view_trustpoints,
    [CV_VIEW_TIMERS] = admin_view_timers,
    [CV_VIEW_RUNNING_CONFIG] = admin_view_running_config,
    [CV_VIEW_CERTIFICATES] = admin_view_certificates,
    [CV_VIEW_PUBKEYS] = admin_view_pubkeys,
};

_Static_assert(CV_ARRAY_LEN(show_views) == CV_VIEW_COUNT, "a view without its show function");

/* A clear action: drops what the view shows and returns how many entries. */
typedef size_t (*clear_view)(struct cv_admin *a, const struct cv_trustpoint *tp);

/* NULL: the view cannot be cleared (protocol.c refuses the request before). */
static const clear_view clear_views[CV_VIEW_COUNT] = {
    [CV_VIEW_CRLS] = admin_clear_crls,
    [CV_VIEW_OCSP] = admin_clear_ocsp,
    [CV_VIEW_PUBKEYS] = admin_clear_pubkeys,
};

json_t *
cv_admin_show(struct cv_admin *a, const struct cv_proto_admin_req *req, enum cv_proto_code *code,
              struct cv_error *err)
{
	const struct cv_trustpoint *tp;
	json_t *o;

	if (request_trustpoint(cv_engine_config(a->engine), req, &tp, code, err) != 0)
		return NULL;
	if ((size_t)req->what >= CV_ARRAY_LEN(show_views)) {
		set_error(code, CV_PROTO_BAD_REQUEST, err, "no such view");
		return NULL;
	}
	o = show_views[req->what](a, req, tp);
	if (o != NULL)
		json_object_set_new(o, "what", json_string(cv_proto_view_name(req->what)));
	else
		set_error(code, CV_PROTO_INTERNAL, err, "out of memory building the view");
	return o;
}

json_t *
cv_admin_clear(struct cv_admin *a, const struct cv_proto_admin_req *req, enum cv_proto_code *code,
               struct cv_error *err)
{
	const struct cv_trustpoint *tp;
	size_t n;
	json_t *o;

	if (request_trustpoint(cv_engine_config(a->engine), req, &tp, code, err) != 0)
		return NULL;
	if ((size_t)req->what >= CV_ARRAY_LEN(clear_views) || clear_views[req->what] == NULL) {
		set_error(code, CV_PROTO_BAD_REQUEST, err, "this view cannot be cleared");
		return NULL;
	}
	if (req->what == CV_VIEW_PUBKEYS && req->index != 0) {
		/* R49: crypto key zeroize pubkey-chain INDEX */
		if ((n = admin_zeroize_pubkey(a, req->index)) == 0) {
			set_error(code, CV_PROTO_BAD_REQUEST, err,
			          "no pubkey-chain entry with that index");
			return NULL;
		}
	} else {
		n = clear_views[req->what](a, tp);
	}
	o = json_pack("{s:s, s:s?, s:I}", "what", cv_proto_view_name(req->what), "trustpoint",
	              tp != NULL ? tp->name : NULL, "cleared", (json_int_t)n);
	if (o == NULL)
		set_error(code, CV_PROTO_INTERNAL, err, "out of memory");
	return o;
}

void
cv_admin_set_events(struct cv_admin *admin, struct cv_events *events)
{
	if (admin != NULL)
		admin_expiry_set_events(admin->expiry, events);
}

void
cv_admin_check_expiry(struct cv_admin *a)
{
	admin_expiry_check(a->expiry);
}

struct cv_admin *
cv_admin_new(struct event_base *base, struct cv_engine *engine)
{
	struct cv_admin *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->base = base;
	a->engine = engine;
	a->expiry = admin_expiry_new(base, engine);
	if (a->expiry == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void
cv_admin_free(struct cv_admin *a)
{
	if (a == NULL)
		return;
	admin_expiry_free(a->expiry);
	free(a);
}
