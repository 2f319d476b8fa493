/* Convenience front ends of the generator: plain emit callback, stdio sink, .etl file. */
#include <stdio.h>

#include "gen/trace_gen.h"

int etw_gen_run(const etw_gen_config *c, etw_gen_emit_fn emit, void *ctx)
{
    etw_gen_sinks s = {emit, NULL, ctx, NULL};
    return etw_gen_run_ex(c, &s);
}

int etw_gen_emit_stdio(const uint8_t *buf, size_t len, void *ctx)
{
    return fwrite(buf, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

int etw_gen_write_file_ex(const etw_gen_config *c, const char *path, etw_gen_summary *summary)
{
    if (etw_gen_config_check(c))
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    etw_gen_sinks s = {etw_gen_emit_stdio, NULL, f, summary};
    int rc = etw_gen_run_ex(c, &s);
    if (fclose(f) != 0)
        rc = -1;
    if (rc)
        remove(path);
    return rc;
}

int etw_gen_write_file(const etw_gen_config *c, const char *path)
{
    return etw_gen_write_file_ex(c, path, NULL);
}
