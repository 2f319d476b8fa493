/* Option helpers shared by `etwire send` and `etwire collect`: the TLS file options. */
#ifndef ETWIRE_RELAY_OPTS_H
#define ETWIRE_RELAY_OPTS_H

typedef struct cli_tls_files {
    const char *cert; /* our certificate chain (PEM) */
    const char *key;  /* its private key (PEM) */
    const char *ca;   /* the CA that must have issued the peer's certificate (PEM) */
} cli_tls_files;

/* Consumes --tls-cert/--tls-key/--tls-ca FILE at argv[*i]; 1 if it was one of them. */
int relay_tls_option(int argc, char **argv, int *i, cli_tls_files *f);

#endif
