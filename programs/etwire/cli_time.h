/* The CLI's times: FILETIME (100 ns since 1601, UTC) to and from ISO 8601, as dump prints
 * them and as --start/--end take them. Their own file, so that the views that print times can
 * be built without the rest of the CLI (tests/view). */
#ifndef ETWIRE_CLI_TIME_H
#define ETWIRE_CLI_TIME_H

#include <stddef.h>
#include <stdint.h>

/* "2021-09-09T14:59:32.8512345Z" (UTC, 100 ns) into out (at least 32 bytes). */
void cli_format_filetime(int64_t ft, char *out, size_t n);
/* Parses an ISO-8601 UTC time ("2021-09-09T14:59:32.85Z", fraction optional) to FILETIME. */
int cli_parse_time(const char *s, int64_t *ft);

#endif
