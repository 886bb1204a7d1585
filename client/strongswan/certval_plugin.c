/*
 * certval_plugin.c: the charon plugin's entry point: registers the authorize listener
 * (certval_listener.c) on charon's bus while the plugin's feature is loaded.
 */
#include "certval_plugin.h"
#include "certval_listener.h"
#include "certval_watch.h"

#include <daemon.h>

typedef struct private_certval_plugin_t private_certval_plugin_t;

struct private_certval_plugin_t {
	certval_plugin_t public;
	certval_listener_t *listener; /* while registered */
	certval_watch_t *watch;       /* revocation events (issue 16), or NULL */
};

METHOD(plugin_t, get_name, char *, private_certval_plugin_t *this)
{
	return "certval";
}

/* Creates and registers the listener, or unregisters and destroys it. */
static bool
register_listener(private_certval_plugin_t *this, plugin_feature_t *feature, bool reg, void *data)
{
	if (reg) {
		this->listener = certval_listener_create();
		if (this->listener == NULL)
			return FALSE; /* charon logs the feature as failed; critical: no start */
		charon->bus->add_listener(charon->bus, &this->listener->listener);
		if (lib->settings->get_bool(lib->settings, "%s.plugins.certval.events", TRUE,
		                            lib->ns) &&
		    (this->watch = certval_watch_create(this->listener)) == NULL)
			DBG1(DBG_CFG, "certval: no revocation events (out of memory)");
	} else if (this->listener != NULL) {
		if (this->watch != NULL)
			this->watch->destroy(this->watch);
		this->watch = NULL;
		charon->bus->remove_listener(charon->bus, &this->listener->listener);
		this->listener->destroy(this->listener);
		this->listener = NULL;
	}
	return TRUE;
}

METHOD(plugin_t, get_features, int, private_certval_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
	    PLUGIN_CALLBACK((plugin_feature_callback_t)register_listener, NULL),
	    PLUGIN_PROVIDE(CUSTOM, "certval"),
	};

	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void, private_certval_plugin_t *this)
{
	free(this);
}

plugin_t *
certval_plugin_create(void)
{
	private_certval_plugin_t *this;

	INIT(this,
	     .public = {
	         .plugin =
	             {
	                 .get_name = _get_name,
	                 .get_features = _get_features,
	                 .destroy = _destroy,
	             },
	     }, );
	return &this->public.plugin;
}
