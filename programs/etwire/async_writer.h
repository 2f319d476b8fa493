/* A file written in large blocks by writer threads: the thread that formats output appends to
 * one block while a writer thread hands the previous one to the kernel, so the formatting and
 * the copy into the page cache (a quarter of a collector session's JSON work) run on two
 * cores. The writer threads are a pool shared by all open files, one per core at most. Two
 * blocks per file: appending waits only while its previous block is not yet written, and
 * every wait has a deadline: a write stuck that long (a dead disk) fails the file instead of
 * hanging the caller. Each file is used by one thread at a time; different files may be used
 * from different threads. */
#ifndef ETWIRE_ASYNC_WRITER_H
#define ETWIRE_ASYNC_WRITER_H

#include <stddef.h>

typedef struct async_writer async_writer;

/* Creates (truncates) path; NULL with err filled. */
async_writer *async_writer_open(const char *path, char *err, size_t errlen);
/* Appends n bytes (copied). 0, or -1 once the file has failed (the failure is reported once
 * on stderr; later output is dropped). */
int async_writer_put(async_writer *w, const void *p, size_t n);
/* Writes what is left, stops the thread, closes the file and frees; 0, or -1 if anything
 * failed. */
int async_writer_close(async_writer *w);

#endif
