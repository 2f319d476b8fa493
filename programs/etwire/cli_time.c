/* The CLI's times: FILETIME (100 ns since 1601, UTC) to and from ISO 8601 (see cli_time.h). */
#include "cli_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define FILETIME_UNIX_EPOCH 116444736000000000LL

void cli_format_filetime(int64_t ft, char *out, size_t n)
{
    int64_t rel = ft - FILETIME_UNIX_EPOCH;
    int64_t secs = rel / 10000000, frac = rel % 10000000;
    if (frac < 0) {
        frac += 10000000;
        secs--;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, n, "%lld", (long long)ft);
        return;
    }
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%07lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
}

int cli_parse_time(const char *s, int64_t *ft)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return -1;
    int64_t frac = 0;
    if (*rest == '.') {
        int digits = 0;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++)
            if (digits < 7) {
                frac = frac * 10 + (*rest - '0');
                digits++;
            }
        while (digits++ < 7)
            frac *= 10;
    }
    if (*rest == 'Z')
        rest++;
    if (*rest)
        return -1;
    *ft = (int64_t)timegm(&tm) * 10000000 + frac + FILETIME_UNIX_EPOCH;
    return 0;
}
