/* The built-in schema pack (docs/format/schema-pack.md §7): the compiled Windows provider
 * manifests, embedded in the library's read-only data with .incbin so that they are found
 * without configuration and paged in by the kernel only where lookups touch them. Opened (its
 * index checked, each provider's entry on its first use, no body read) on the first lookup
 * that reaches it, never at start-up. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdh/store/pack_sources.h"

#ifndef ETWIRE_BUILTIN_PACK_PATH
#error "ETWIRE_BUILTIN_PACK_PATH must name the pack to embed (src/CMakeLists.txt sets it)"
#endif

/* The symbols are hidden: the pack is reached only through etw_builtin_pack(). */
__asm__(".pushsection .rodata\n"
        ".balign 16\n"
        ".globl etw_builtin_pack_begin\n"
        ".hidden etw_builtin_pack_begin\n"
        "etw_builtin_pack_begin:\n"
        ".incbin \"" ETWIRE_BUILTIN_PACK_PATH "\"\n"
        ".globl etw_builtin_pack_end\n"
        ".hidden etw_builtin_pack_end\n"
        "etw_builtin_pack_end:\n"
        ".popsection\n");

extern const uint8_t etw_builtin_pack_begin[], etw_builtin_pack_end[];

static pthread_once_t once = PTHREAD_ONCE_INIT;
static etw_pack pack;
static int usable;
static atomic_int disabled;

static void open_pack(void)
{
    const char *env = getenv("ETWIRE_BUILTIN_SCHEMAS");
    if (env && strcmp(env, "0") == 0)
        disabled = 1;
    /* Providers are checked on first use: checking all ~1,000 at open cost every process
     * 1.4 M instructions, a third of a small trace's events path. */
    usable = etw_pack_open_deferred(&pack, etw_builtin_pack_begin, (size_t)(etw_builtin_pack_end - etw_builtin_pack_begin),
                           NULL, 0);
}

const etw_pack *etw_builtin_pack(void)
{
    pthread_once(&once, open_pack);
    return usable && !disabled ? &pack : NULL;
}

void etw_builtin_pack_enable(int enable)
{
    pthread_once(&once, open_pack); /* so the environment cannot override this call later */
    disabled = !enable;
}
