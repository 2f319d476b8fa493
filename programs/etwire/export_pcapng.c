/* etwire export pcapng: packet events of Microsoft-Windows-PktMon (160 flow, 170 drop) and
 * Microsoft-Windows-NDIS-PacketCapture (1001 packet fragment, 1003 VMSwitch packet fragment, in
 * export_pcapng_ndis.c) as pcapng packets. Layouts: docs/export.md. One interface per pktmon
 * component and packet type, or per NDIS miniport and media type, or per VMSwitch port. pktmon
 * names its components when the capture stops, so the first packet of a component not named
 * yet has the traces scanned for component events (pcapng_scan). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "export_pcapng.h"

static const GUID pktmon_guid = {0x4d4f80d9, 0xc8bd, 0x4d73, {0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}};
static const GUID ndiscap_guid = {0x2ed6006e, 0x4729, 0x4609, {0xb4, 0x23, 0x3e, 0xe7, 0xbc, 0xd6, 0x78, 0xef}};

#define PKTMON_HEADER 34 /* PktGroupId .. LoggedPayloadSize, then the bytes */

void pcapng_put_u(etw_strbuf *s, const char *label, uint64_t v)
{
    etw_strbuf_puts(s, label);
    etw_strbuf_u64(s, v);
}

void pcapng_process_comment(pcapng_state *st, const EVENT_RECORD *er, export_context *cx)
{
    etw_strbuf_reset(&st->comment);
    ULONG pid = etwire_process_tracker_pid(cx->processes, er);
    if (pid != 0xFFFFFFFFu) {
        pcapng_put_u(&st->comment, "pid ", pid);
        const char *name = etwire_process_tracker_name_of(cx->processes, pid);
        if (name[0]) {
            etw_strbuf_puts(&st->comment, " (");
            etw_strbuf_puts(&st->comment, name);
            etw_strbuf_putc(&st->comment, ')');
        }
        etw_strbuf_putc(&st->comment, ' ');
    }
    pcapng_put_u(&st->comment, "tid ", er->EventHeader.ThreadId);
}

static const pcapng_component *find_component(const pcapng_state *st, uint16_t id)
{
    for (unsigned i = 0; i < st->n_components; i++)
        if (st->components[i].id == id)
            return &st->components[i];
    return NULL;
}

static uint16_t pktmon_linktype(uint16_t packet_type)
{
    switch (packet_type) {
    case 1: return PCAPNG_LINKTYPE_ETHERNET;
    case 2: return PCAPNG_LINKTYPE_IEEE802_11;
    case 3: return PCAPNG_LINKTYPE_RAW;
    default: return PCAPNG_LINKTYPE_USER0; /* HTTP, TCP, UDP, ...: starts above the IP header */
    }
}

int64_t pcapng_interface_find(const pcapng_state *st, const pcapng_iface_key *key)
{
    for (unsigned i = 0; i < st->n_ifaces; i++) {
        const pcapng_iface_key *k = &st->ifaces[i].key;
        if (k->kind == key->kind && k->a == key->a && k->b == key->b && k->c == key->c &&
            k->linktype == key->linktype)
            return st->ifaces[i].id;
    }
    return -1;
}

int64_t pcapng_interface_add(pcapng_state *st, const pcapng_iface_key *key)
{
    if (st->n_ifaces == PCAPNG_MAX_INTERFACES)
        return -1;
    int id = pcapng_write_interface(&st->w, key->linktype, st->name.data, st->desc.data);
    if (id < 0)
        return -1;
    st->ifaces[st->n_ifaces++] = (pcapng_iface){*key, (uint32_t)id};
    return id;
}

/* The interface of a pktmon component and packet type, named after the component. */
static int64_t pktmon_interface(pcapng_state *st, uint16_t component_id, uint16_t packet_type)
{
    pcapng_iface_key key = {IFACE_PKTMON, component_id, packet_type, 0, pktmon_linktype(packet_type)};
    int64_t id = pcapng_interface_find(st, &key);
    if (id >= 0)
        return id;
    etw_strbuf_reset(&st->name);
    etw_strbuf_reset(&st->desc);
    const pcapng_component *c = find_component(st, component_id);
    /* pktmon names a protocol component "NULL" and says what it is in the description. */
    const char *label = !c ? "" : c->name[0] && strcmp(c->name, "NULL") ? c->name : c->description;
    if (label[0]) {
        etw_strbuf_puts(&st->name, label);
        etw_strbuf_puts(&st->desc, c->description);
        etw_strbuf_puts(&st->desc, c->description[0] ? ", " : "");
    } else {
        pcapng_put_u(&st->name, "pktmon component ", component_id);
    }
    pcapng_put_u(&st->desc, "pktmon component ", component_id);
    pcapng_put_u(&st->desc, ", packet type ", packet_type);
    return pcapng_interface_add(st, &key);
}

/* UTF-16 string at p (bytes left n) into out as UTF-8; returns the bytes consumed. */
static size_t utf16_field(const uint8_t *p, size_t n, char *out, size_t cap)
{
    int terminated;
    size_t span = etw_utf16_span(p, n, &terminated);
    etw_utf16_to_utf8_cut(p, span, out, cap);
    return span + (terminated ? 2 : 0);
}

/* Event 20: ComponentId, Type, Name (UTF-16), Description (UTF-16). */
static void pktmon_component(pcapng_state *st, const uint8_t *p, size_t n)
{
    if (n < 4 || st->n_components == PCAPNG_MAX_COMPONENTS)
        return;
    uint16_t id = etw_rd16(p);
    if (find_component(st, id))
        return;
    pcapng_component *c = &st->components[st->n_components++];
    memset(c, 0, sizeof *c);
    c->id = id;
    size_t used = utf16_field(p + 4, n - 4, c->name, sizeof c->name);
    if (4 + used < n)
        utf16_field(p + 4 + used, n - 4 - used, c->description, sizeof c->description);
}

static void pktmon_packet(pcapng_state *st, const EVENT_RECORD *er, export_context *cx, int drop_event)
{
    const uint8_t *p = er->UserData;
    size_t n = er->UserDataLength;
    if (n < PKTMON_HEADER) {
        st->skipped++;
        return;
    }
    uint16_t packet_type = etw_rd16(p + 14), component_id = etw_rd16(p + 16);
    uint16_t dir = etw_rd16(p + 12);
    uint32_t drop_reason = etw_rd32(p + 22), drop_location = etw_rd32(p + 26);
    uint32_t original = etw_rd16(p + 30), logged = etw_rd16(p + 32);
    if (logged > n - PKTMON_HEADER)
        logged = (uint32_t)(n - PKTMON_HEADER); /* never past the event's bytes */
    /* pktmon names its components when the capture stops: the first packet of a component
     * not named yet has the whole trace scanned for the names (once). */
    if (!st->scanned && !find_component(st, component_id)) {
        st->scanned = 1;
        if (cx->scan_traces)
            cx->scan_traces(cx);
    }
    int64_t if_id = pktmon_interface(st, component_id, packet_type);
    if (if_id < 0) {
        st->skipped++;
        return;
    }
    pcapng_process_comment(st, er, cx);
    pcapng_put_u(&st->comment, "; pktmon group ", etw_rd64(p));
    pcapng_put_u(&st->comment, " packet ", etw_rd16(p + 8));
    pcapng_put_u(&st->comment, " appearance ", etw_rd16(p + 10));
    pcapng_put_u(&st->comment, " component ", component_id);
    pcapng_put_u(&st->comment, " edge ", etw_rd16(p + 18));
    pcapng_put_u(&st->comment, " filter ", etw_rd16(p + 20));
    /* DirTag: 1 ingress, 2 egress, 3 receive, 4 send (the corpus capture's echo request climbs
     * the stack with 3 and its reply descends with 4). */
    static const char *const dirs[] = {"", " ingress", " egress", " rx", " tx"};
    etw_strbuf_puts(&st->comment, dir < 5 ? dirs[dir] : "");
    uint32_t flags = dir == 1 || dir == 3 ? PCAPNG_FLAG_INBOUND : dir == 2 || dir == 4 ? PCAPNG_FLAG_OUTBOUND : 0;
    if (drop_event || drop_reason) {
        pcapng_put_u(&st->comment, "; dropped: reason ", drop_reason);
        pcapng_put_u(&st->comment, " location ", drop_location);
        st->drops++;
    }
    pcapng_write_packet(&st->w, (uint32_t)if_id, export_unix_100ns(er->EventHeader.TimeStamp.QuadPart),
                        p + PKTMON_HEADER, logged, original, flags, st->comment.data);
    st->packets++;
}

static void *pcapng_begin(export_context *cx)
{
    pcapng_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (pcapng_writer_open(&st->w, cx->out, "etwire export pcapng") != 0) {
        pcapng_writer_close(&st->w);
        free(st);
        return NULL;
    }
    return st;
}

static void pcapng_event(void *state, const EVENT_RECORD *er, export_context *cx)
{
    pcapng_state *st = state;
    const GUID *g = &er->EventHeader.ProviderId;
    unsigned id = er->EventHeader.EventDescriptor.Id;
    if (g->Data1 == pktmon_guid.Data1 && etw_guid_equal(g, &pktmon_guid)) {
        if (id == 160 || id == 170)
            pktmon_packet(st, er, cx, id == 170);
        else if (id == 20 && er->UserData)
            pktmon_component(st, er->UserData, er->UserDataLength);
    } else if (g->Data1 == ndiscap_guid.Data1 && etw_guid_equal(g, &ndiscap_guid)) {
        if (id == 1001)
            pcapng_ndis_fragment(st, er, cx);
        else if (id == 1003)
            pcapng_vmswitch_fragment(st, er, cx);
    }
}

/* The scan: pktmon names its components (event 20) when the capture stops, after the packets;
 * knowing them before the first packet is written gives the interfaces their names. */
static void pcapng_scan(void *state, const EVENT_RECORD *er)
{
    const GUID *g = &er->EventHeader.ProviderId;
    if (er->EventHeader.EventDescriptor.Id == 20 && g->Data1 == pktmon_guid.Data1 &&
        etw_guid_equal(g, &pktmon_guid) && er->UserData)
        pktmon_component(state, er->UserData, er->UserDataLength);
}

static int pcapng_end(void *state, export_context *cx)
{
    pcapng_state *st = state;
    pcapng_ndis_finish(st);
    int failed = st->w.failed;
    fprintf(stderr, "etwire export: %llu packets (%llu dropped, %llu joined from fragments) on %u interfaces to %s",
            (unsigned long long)st->packets, (unsigned long long)st->drops,
            (unsigned long long)st->fragments_joined, st->n_ifaces, cx->out_path);
    if (st->skipped)
        fprintf(stderr, "; %llu packet events not converted", (unsigned long long)st->skipped);
    fputc('\n', stderr);
    pcapng_writer_close(&st->w);
    etw_strbuf_free(&st->comment);
    etw_strbuf_free(&st->name);
    etw_strbuf_free(&st->desc);
    free(st);
    return failed ? -1 : 0;
}

const export_format export_pcapng_format = {
    "pcapng", "packets of pktmon and NDIS packet-capture traces, for Wireshark",
    pcapng_begin, pcapng_event, pcapng_end, pcapng_scan,
};
