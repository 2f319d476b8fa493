/* A file written by a thread of its own, in large blocks: the thread that formats output
 * appends to one block while the writer thread hands the previous one to the kernel, so the
 * formatting and the copy into the page cache (a quarter of a collector session's JSON work)
 * run on two cores. Two blocks in all: appending waits only while the writer is a whole block
 * behind, and every wait has a deadline: a writer stuck that long (a dead disk) fails the file
 * instead of hanging the caller. */
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
