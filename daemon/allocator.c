/*
 * allocator.c: the memory allocator certvald runs on (issue 13). A verdict makes about a
 * hundred small blocks on a worker thread that the event loop frees (the request read by
 * jansson, the job, the reply), beside a few large ones (the parsed certificate, the job's
 * revocation state). The C library's allocator serves those from its arenas, under their locks,
 * once its per-thread caches (7 blocks a size) run out, and consolidates its fast bins on the
 * large requests; tcmalloc (gperftools) serves them from per-thread caches. That took 0.5 to 9 us
 * off each verdict's path beyond its signature, in turns side by side (README "Benchmarks").
 *
 * tcmalloc keeps freed spans by default; set to give them back at once, a large CRL's download
 * buffer and DER leave when they are freed, as with the C library's mmap'ed blocks, so that an
 * ingest's peak stays under 1.5 times the DER (bench/ingest_bench).
 */
#include "allocator.h"

#include <stddef.h>

#include "../common/log.h"

#ifdef CV_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif

void
cv_allocator_setup(void)
{
#ifdef CV_TCMALLOC
	if (!MallocExtension_SetNumericProperty("tcmalloc.aggressive_memory_decommit", 1))
		cv_log_warning("allocator: tcmalloc would not return freed memory at once");
#endif
}

const char *
cv_allocator_name(void)
{
#ifdef CV_TCMALLOC
	size_t bytes;

	/* answered only by tcmalloc itself, not when another malloc was preloaded over it */
	if (MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &bytes))
		return "tcmalloc";
#endif
	return "libc";
}
