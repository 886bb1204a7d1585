/*
 * expiry.h: expiry notices for trustpoint CA certificates (R57, R58, O-24): the schedule
 * and the text of a notice, as pure functions of notAfter and "now".
 *
 * Schedule: the time before notAfter is cut into slots. From 60 days to 7 days before
 * notAfter the slots are weekly (warning mode: starting 60, 53, 46, 39, 32, 25, 18 and 11
 * days before); in the last 7 days they are daily (alert mode: starting 7, 6, ..., 1 days
 * before). One notice is due per slot: the first time the daemon looks while "now" lies in a
 * slot later than the slot of the last notice sent. A daemon started in the middle of the
 * schedule sends the notice of the current slot once, not every one it missed. Nothing is
 * sent more than 60 days before notAfter, nor once the certificate has expired.
 */
#ifndef CV_EXPIRY_H
#define CV_EXPIRY_H

#include <stddef.h>

#include "../common/clock.h"

#define CV_EXPIRY_WARN_BEFORE  (60 * 86400) /* first notice: 60 days before notAfter */
#define CV_EXPIRY_WARN_EVERY   (7 * 86400)  /* then weekly */
#define CV_EXPIRY_ALERT_BEFORE (7 * 86400)  /* the last week: daily, alert mode */
#define CV_EXPIRY_ALERT_EVERY  86400

enum cv_expiry_mode {
	CV_EXPIRY_NONE,    /* no notice */
	CV_EXPIRY_WARNING, /* severity 4, weekly */
	CV_EXPIRY_ALERT,   /* severity 1, daily (the manual's alert line) */
};

/* "none", "warning", "alert". */
const char *cv_expiry_mode_name(enum cv_expiry_mode mode);

/*
 * The slot that holds now: its mode, and its start in *slot_start (may be NULL). NONE (and
 * *slot_start = CV_TIME_NONE) when now is more than 60 days before not_after, or not before
 * it (expired).
 */
enum cv_expiry_mode cv_expiry_slot(cv_time not_after, cv_time now, cv_time *slot_start);

/*
 * The notice due at now when the last one sent belongs to the slot starting at last_slot
 * (CV_TIME_NONE: none sent yet): the current slot's mode and start (*slot), or NONE when no
 * notice is due.
 */
enum cv_expiry_mode cv_expiry_due(cv_time not_after, cv_time now, cv_time last_slot, cv_time *slot);

/* The start of the first slot after now, or CV_TIME_NONE when none follows. */
cv_time cv_expiry_next(cv_time not_after, cv_time now);

/*
 * The time left as the manual writes it: "1 days, 23 hours, 59 minutes, 41 seconds"
 * (negative values are written as 0 seconds left). Returns buf.
 */
char *cv_expiry_format_left(cv_time seconds, char *buf, size_t size);

/*
 * A serial given as hex digits (cv_cert_serial: "2EC") as colon-separated bytes ("02:EC").
 * Returns 0, or -1 when hex is empty, not hex, or the result does not fit.
 */
int cv_expiry_format_serial(const char *hex, char *buf, size_t size);

/* What a notice says (borrowed strings). */
struct cv_expiry_notice {
	const char *trustpoint;
	const char *cert_type; /* "CA" for trustpoint CA certificates (O-24) */
	const char *serial;    /* hex digits, as cv_cert_serial gives them */
	const char *issuer;    /* RFC 4514 text */
	const char *subject;
	cv_time not_after;
};

/*
 * The log line of a notice at now (R58):
 *   %SECURITY-CEPKI-1-CERT_EXPIRING_ALERT : Certificate expiring WITHIN A WEEK. Trustpoint
 *   Name= T, Certificate Type= CA, Serial Number= 02:EC, Issuer Name= I, Subject name= S,
 *   Time Left= 1 days, 23 hours, 59 minutes, 41 seconds
 * and for warnings (O-24: severity 4, the same body)
 *   %SECURITY-CEPKI-4-CERT_EXPIRING_WARNING : Certificate expiring WITHIN 60 DAYS. ...
 * Returns the length written, or -1 (mode NONE, a bad serial, or buf too small: buf then
 * holds a truncated line).
 */
int cv_expiry_format(enum cv_expiry_mode mode, const struct cv_expiry_notice *n, cv_time now,
                     char *buf, size_t size);

#endif
