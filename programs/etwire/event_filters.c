/* Event filters (see event_filters.h): the options, their values checked as they are read.
 * Matching is in event_filter_match.c. */
#include "event_filters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "cli_common.h"
#include "event_view.h"

void event_filter_init(event_filter *f)
{
    memset(f, 0, sizeof *f);
    event_view_open_store(NULL);
}

void event_filter_free(event_filter *f)
{
    if (f->scratch) {
        etw_strbuf_free(&f->scratch[0]);
        etw_strbuf_free(&f->scratch[1]);
        free(f->scratch);
        f->scratch = NULL;
    }
    if (f->owns_tracker)
        etwire_process_tracker_destroy(f->tracker);
    f->tracker = NULL;
    f->owns_tracker = 0;
}

static void set_filetime(FILETIME *t, int64_t v)
{
    t->dwLowDateTime = (DWORD)v;
    t->dwHighDateTime = (DWORD)((uint64_t)v >> 32);
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    if (!s[0] || s[0] == '-')
        return -1;
    *v = strtoull(s, &end, 0);
    return *end || *v > max ? -1 : 0;
}

static int too_many(unsigned n, const char *what)
{
    if (n < EVENT_FILTER_MAX)
        return 0;
    fprintf(stderr, "etwire: at most %d --%s options\n", EVENT_FILTER_MAX, what);
    return 1;
}

static int parse_level(const char *s, unsigned *level)
{
    static const char *const names[] = {"always", "critical", "error", "warning", "info", "verbose"};
    for (unsigned i = 0; i < 6; i++)
        if (!strcasecmp(s, names[i]) || (i == 4 && !strcasecmp(s, "informational"))) {
            *level = i;
            return 0;
        }
    unsigned long long v;
    if (parse_uint(s, 255, &v) != 0)
        return -1;
    *level = (unsigned)v;
    return 0;
}

int event_filter_option(event_filter *f, int opt, const char *arg)
{
    unsigned long long v;
    int64_t ft;
    GUID g;
    switch (opt) {
    case 1001:
        if (etw_guid_parse(arg, &g)) {
            if (too_many(f->n_providers, "provider"))
                return -1;
            f->providers[f->n_providers++] = g;
        } else {
            /* Braces say a GUID was meant: a typo there is an error, not a name. */
            if (!arg[0] || arg[0] == '{') {
                fprintf(stderr, "etwire: --provider takes a name or a GUID, not '%s'\n", arg);
                return -1;
            }
            if (too_many(f->n_provider_names, "provider"))
                return -1;
            f->provider_names[f->n_provider_names++] = arg;
        }
        return 0;
    case 1002:
        if (parse_uint(arg, 0xFFFF, &v) == 0) {
            if (too_many(f->n_event_ids, "event"))
                return -1;
            f->event_ids[f->n_event_ids++] = (unsigned)v;
        } else {
            if (!arg[0] || too_many(f->n_event_names, "event"))
                return -1;
            f->event_names[f->n_event_names++] = arg;
        }
        return 0;
    case 1003:
    case 1023:
        if (parse_uint(arg, 0xFFFFFFFFull, &v) != 0) {
            fprintf(stderr, "etwire: --%s takes a number, not '%s'\n", opt == 1003 ? "pid" : "tid", arg);
            return -1;
        }
        if (opt == 1003) {
            if (too_many(f->n_pids, "pid"))
                return -1;
            f->pids[f->n_pids++] = (unsigned)v;
        } else {
            if (too_many(f->n_tids, "tid"))
                return -1;
            f->tids[f->n_tids++] = (unsigned)v;
        }
        return 0;
    case 1024:
        if (!arg[0] || too_many(f->n_processes, "process"))
            return -1;
        f->processes[f->n_processes++] = arg;
        return 0;
    case 1021:
        if (parse_level(arg, &f->level) != 0) {
            fprintf(stderr, "etwire: --level takes 1-5 or critical|error|warning|info|verbose, not '%s'\n", arg);
            return -1;
        }
        f->has_level = 1;
        return 0;
    case 1022:
        if (parse_uint(arg, ~0ull, &v) != 0) {
            fprintf(stderr, "etwire: --keyword takes a mask such as 0x10, not '%s'\n", arg);
            return -1;
        }
        f->keyword = v;
        f->has_keyword = 1;
        return 0;
    case 1004:
    case 1005:
        if (cli_parse_time(arg, &ft) != 0) {
            fprintf(stderr, "etwire: '%s' is not an ISO-8601 UTC time\n", arg);
            return -1;
        }
        set_filetime(opt == 1004 ? &f->start : &f->end, ft);
        *(opt == 1004 ? &f->has_start : &f->has_end) = 1;
        return 0;
    case 1006:
    case 1007:
    case 1008:
    case 1009: {
        ULONG rc = opt == 1006   ? etwire_tdh_load_manifest(arg)
                   : opt == 1007 ? etwire_tdh_load_binary(arg)
                   : opt == 1008 ? etwire_tdh_load_mof(arg)
                                 : etwire_tdh_load_tmf(arg);
        if (rc != ERROR_SUCCESS) {
            /* The loaders' message names the file, the line and what is wrong when they can. */
            const char *why = etwire_last_error_message();
            if (why[0])
                fprintf(stderr, "etwire: cannot load %s\n", why);
            else
                fprintf(stderr, "etwire: cannot load %s: %s\n", arg, etwire_strerror(rc));
        }
        return rc == ERROR_SUCCESS ? 0 : -1;
    }
    case 1010:
        return event_view_open_store(arg);
    default:
        return 1;
    }
}

void event_filter_use_tracker(event_filter *f, ETWIRE_PROCESS_TRACKER *tracker)
{
    if (f->owns_tracker)
        etwire_process_tracker_destroy(f->tracker);
    f->owns_tracker = 0;
    f->tracker = tracker;
}

int event_filter_active(const event_filter *f)
{
    return f->n_providers || f->n_provider_names || f->n_event_ids || f->n_event_names || f->n_pids ||
           f->n_tids || f->n_processes || f->has_level || f->has_keyword;
}

LPFILETIME event_filter_start(event_filter *f) { return f->has_start ? &f->start : NULL; }
LPFILETIME event_filter_end(event_filter *f) { return f->has_end ? &f->end : NULL; }

const char *event_filter_usage(void)
{
    return "      --manifest FILE      add the schemas of an instrumentation manifest (.man, XML)\n"
           "      --provider-binary FILE  add the schemas in a provider binary's WEVT_TEMPLATE\n"
           "      --mof FILE           add classic event classes described in MOF\n"
           "      --tmf FILE|DIR       WPP message formats: a TMF file, or a directory of <guid>.tmf\n"
           "      --schemas DIR        the schema store to use (default: $ETWIRE_SCHEMAS, else\n"
           "                           ~/.local/share/etwire/schemas; see etwire schemas)\n"
           "filters (repeat an option to accept any of its values):\n"
           "      --provider NAME|GUID only events of this provider (e.g. Microsoft-Windows-Kernel-Process)\n"
           "      --event NAME|ID      only events with this id or name (Process/Start, Start or Process)\n"
           "      --level N|NAME       only events at this level or more severe (1 critical .. 5 verbose)\n"
           "      --keyword MASK       only events with one of these keyword bits (or no keyword at all)\n"
           "      --pid PID            only events of this process\n"
           "      --tid TID            only events of this thread\n"
           "      --process NAME       only events of processes running this image (svchost or svchost.exe)\n"
           "      --start TIME         only events at or after TIME (ISO-8601 UTC)\n"
           "      --end TIME           only events at or before TIME\n";
}
