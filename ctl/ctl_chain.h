/*
 * ctl_chain.h: certvalctl's reading of the peer's chain file (CHAIN.pem of `verify`): the
 * bytes of each certificate in file order, kept even when they do not parse. A certificate
 * that does not parse is the peer's fault: it gets a REJECT verdict (malformed-certificate),
 * not a usage error; only a file that cannot be read, or is empty, is a usage error.
 */
#ifndef CV_CTL_CHAIN_H
#define CV_CTL_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../policy/engine.h"

/* One certificate as found in the file: DER, or the raw bytes of a PEM block that is not. */
struct ctl_blob {
	uint8_t *der;
	size_t len;
};

struct ctl_chain {
	struct ctl_blob *v; /* owned */
	size_t n;
};

/*
 * Reads path: a DER certificate (anything that holds no PEM CERTIFICATE block is taken as
 * one), or PEM text with one or more CERTIFICATE blocks (other blocks ignored). Returns 0, or
 * -1 with err set when the file cannot be read or is empty.
 */
int ctl_chain_read(const char *path, struct ctl_chain *out, struct cv_error *err);
void ctl_chain_free(struct ctl_chain *chain);

/*
 * Parses the certificates into req->chain up to the first that does not parse, which is
 * noted in req->malformed (its position, and why) for the engine to reject. Returns 0, or -1
 * (out of memory).
 */
int ctl_chain_to_request(const struct ctl_chain *chain, const char *path, struct cv_request *req);

#endif
