/* Option helpers for the relay commands (see relay_opts.h). */
#include "relay_opts.h"

#include <string.h>

int relay_tls_option(int argc, char **argv, int *i, cli_tls_files *f)
{
    const char **slot = !strcmp(argv[*i], "--tls-cert") ? &f->cert
                      : !strcmp(argv[*i], "--tls-key")  ? &f->key
                      : !strcmp(argv[*i], "--tls-ca")   ? &f->ca
                                                        : NULL;
    if (!slot || *i + 1 >= argc)
        return 0;
    *slot = argv[++*i];
    return 1;
}
