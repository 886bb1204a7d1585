/*
 * allocator.h: the memory allocator certvald runs on (issue 13): tcmalloc when the build links
 * it (meson option tcmalloc), else the C library's.
 */
#ifndef CV_ALLOCATOR_H
#define CV_ALLOCATOR_H

/* Once, at start, before the worker threads: tunes the allocator in use. */
void cv_allocator_setup(void);

/* The allocator malloc reaches, as found at run time: "tcmalloc" or "libc". */
const char *cv_allocator_name(void);

#endif
