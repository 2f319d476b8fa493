/* A pcapng writer (the block layout of draft-ietf-opsawg-pcapng): section header, interface
 * descriptions and enhanced packet blocks with comments, written little-endian to a FILE. */
#ifndef ETWIRE_CLI_PCAPNG_WRITER_H
#define ETWIRE_CLI_PCAPNG_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/strbuf.h"

#define PCAPNG_LINKTYPE_ETHERNET 1
#define PCAPNG_LINKTYPE_RAW 101       /* IPv4 or IPv6, no link header */
#define PCAPNG_LINKTYPE_IEEE802_11 105
#define PCAPNG_LINKTYPE_USER0 147     /* payloads with no link type of their own */

/* Enhanced packet block flags (epb_flags): the direction bits. */
#define PCAPNG_FLAG_INBOUND 1u
#define PCAPNG_FLAG_OUTBOUND 2u

typedef struct pcapng_writer {
    FILE *out;
    etw_strbuf block;   /* one block is built here, then written with one fwrite */
    uint32_t interfaces;
    int failed;
} pcapng_writer;

/* Writes the section header block (application name as shb_userappl). */
int pcapng_writer_open(pcapng_writer *w, FILE *out, const char *application);
void pcapng_writer_close(pcapng_writer *w);
/* Adds an interface with 100 ns timestamps (if_tsresol 7); returns its id, or -1. */
int pcapng_write_interface(pcapng_writer *w, uint16_t linktype, const char *name, const char *description);
/* One packet: time in 100 ns units since 1970, captured bytes, the length on the wire, epb_flags
 * (0 for none) and a comment (NULL for none). */
int pcapng_write_packet(pcapng_writer *w, uint32_t interface_id, uint64_t time_100ns, const uint8_t *data,
                        uint32_t captured, uint32_t original, uint32_t flags, const char *comment);

#endif
