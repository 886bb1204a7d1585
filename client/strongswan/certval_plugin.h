/*
 * certval_plugin.h: the strongSwan charon plugin "certval": certvald decides whether a peer's
 * certificate is acceptable for IKE (libstrongswan-certval.so).
 */
#ifndef CERTVAL_PLUGIN_H_
#define CERTVAL_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct certval_plugin_t certval_plugin_t;

struct certval_plugin_t {
	plugin_t plugin;
};

/* Found by charon's plugin loader by name (PLUGIN_DEFINE convention: NAME_plugin_create). */
__attribute__((visibility("default"))) plugin_t *certval_plugin_create(void);

#endif
