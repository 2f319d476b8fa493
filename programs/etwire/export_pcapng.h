/* The pcapng exporter's shared state (export_pcapng.c: the format, pktmon; export_pcapng_ndis.c:
 * NDIS packet capture). Interfaces are described on first use; names must be in st->name and
 * st->desc before pcapng_interface_add. */
#ifndef ETWIRE_CLI_EXPORT_PCAPNG_H
#define ETWIRE_CLI_EXPORT_PCAPNG_H

#include <stdint.h>

#include "base/strbuf.h"
#include "export.h"
#include "pcapng_writer.h"

#define PCAPNG_MAX_INTERFACES 1024
#define PCAPNG_MAX_COMPONENTS 1024
#define PCAPNG_MAX_PENDING 16

enum pcapng_iface_kind { IFACE_PKTMON = 1, IFACE_NDIS = 2, IFACE_VMSWITCH = 3 };

/* What an interface stands for: a pktmon (component, packet type), an NDIS (miniport, lower
 * interface) or a VMSwitch (source port, miniport, lower interface); and its link type. */
typedef struct pcapng_iface_key {
    uint32_t kind, a, b, c;
    uint16_t linktype;
} pcapng_iface_key;

typedef struct pcapng_iface {
    pcapng_iface_key key;
    uint32_t id;
} pcapng_iface;

typedef struct pcapng_component {
    uint16_t id;
    char name[96];
    char description[96];
} pcapng_component;

/* An NDIS packet whose fragments are still coming (PACKET_START seen, PACKET_END not yet). */
typedef struct pcapng_pending {
    int used;
    pcapng_iface_key key; /* linktype 0: fragments of one packet share it whatever their media */
    etw_strbuf bytes;
} pcapng_pending;

typedef struct pcapng_state {
    pcapng_writer w;
    pcapng_iface ifaces[PCAPNG_MAX_INTERFACES];
    unsigned n_ifaces;
    pcapng_component components[PCAPNG_MAX_COMPONENTS];
    unsigned n_components;
    pcapng_pending pend[PCAPNG_MAX_PENDING];
    etw_strbuf comment, name, desc;
    uint64_t packets, drops, fragments_joined, skipped;
    int scanned; /* the traces were scanned for pktmon's component names */
} pcapng_state;

void pcapng_put_u(etw_strbuf *s, const char *label, uint64_t v);
/* st->comment = "pid N (image) tid N" for the event. */
void pcapng_process_comment(pcapng_state *st, const EVENT_RECORD *er, export_context *cx);
/* The interface's id, or -1 when it has not been described yet. */
int64_t pcapng_interface_find(const pcapng_state *st, const pcapng_iface_key *key);
/* Describes the interface with st->name and st->desc; its id, or -1 when full. */
int64_t pcapng_interface_add(pcapng_state *st, const pcapng_iface_key *key);

/* Microsoft-Windows-NDIS-PacketCapture events 1001 (fragment) and 1003 (VMSwitch fragment). */
void pcapng_ndis_fragment(pcapng_state *st, const EVENT_RECORD *er, export_context *cx);
void pcapng_vmswitch_fragment(pcapng_state *st, const EVENT_RECORD *er, export_context *cx);
/* At the end: counts the packets whose end never came and frees the fragment buffers. */
void pcapng_ndis_finish(pcapng_state *st);

#endif
