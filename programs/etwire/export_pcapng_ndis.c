/* NDIS packet capture (Microsoft-Windows-NDIS-PacketCapture) as pcapng packets: event 1001
 * carries a fragment seen by a miniport, event 1003 one seen by a Hyper-V virtual switch port.
 * A packet's fragments run from a PACKET_START to a PACKET_END keyword and are joined per
 * interface (miniport and lower interface; for the switch also the source port). Layouts:
 * docs/export.md. */
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "export_pcapng.h"

/* Keywords: media type, fragment position, direction. */
#define NDIS_KW_MEDIA_WIRELESS_WAN 0x200ull
#define NDIS_KW_MEDIA_NATIVE_802_11 0x10000ull
#define NDIS_KW_PACKET_START 0x40000000ull
#define NDIS_KW_PACKET_END 0x80000000ull
#define NDIS_KW_SEND 0x100000000ull
#define NDIS_KW_RECEIVE 0x200000000ull

#define MAX_PACKET (1u << 20)
#define VMSWITCH_NAME_BYTES 128

/* A fragment event, its fields found (bounded by the event's bytes). */
typedef struct fragment {
    pcapng_iface_key key; /* linktype from the media keywords */
    const uint8_t *data;
    uint32_t size;
    /* 1003 only: the strings (UTF-16LE, not terminated here) that name the switch port. */
    const uint8_t *port_name, *nic_name, *nic_type;
    size_t port_name_len, nic_name_len, nic_type_len;
    uint32_t destinations;
} fragment;

static pcapng_pending *pending_for(pcapng_state *st, const pcapng_iface_key *key, int create)
{
    pcapng_pending *free_slot = NULL;
    for (unsigned i = 0; i < PCAPNG_MAX_PENDING; i++) {
        pcapng_pending *q = &st->pend[i];
        if (q->used && q->key.kind == key->kind && q->key.a == key->a && q->key.b == key->b &&
            q->key.c == key->c)
            return q;
        if (!q->used && !free_slot)
            free_slot = q;
    }
    if (!create || !free_slot)
        return NULL;
    free_slot->used = 1;
    free_slot->key = *key;
    etw_strbuf_reset(&free_slot->bytes);
    return free_slot;
}

static int pending_append(pcapng_pending *q, const uint8_t *p, uint32_t n)
{
    if (n > MAX_PACKET - q->bytes.len || etw_strbuf_reserve(&q->bytes, n) != 0)
        return -1;
    etw_strbuf_append(&q->bytes, (const char *)p, n);
    return 0;
}

static uint16_t media_linktype(uint64_t kw)
{
    return kw & NDIS_KW_MEDIA_NATIVE_802_11   ? PCAPNG_LINKTYPE_IEEE802_11
           : kw & NDIS_KW_MEDIA_WIRELESS_WAN ? PCAPNG_LINKTYPE_RAW
                                             : PCAPNG_LINKTYPE_ETHERNET;
}

/* UTF-16 string field at *off (a NUL ends it, else the event does); moves *off past it. */
static const uint8_t *string_field(const uint8_t *p, size_t n, size_t *off, size_t *len)
{
    int terminated;
    const uint8_t *s = p + *off;
    *len = etw_utf16_span(s, n - *off, &terminated);
    *off += *len + (terminated ? 2 : 0);
    return s;
}

static void put_utf16(etw_strbuf *out, const uint8_t *s, size_t len)
{
    char text[VMSWITCH_NAME_BYTES];
    etw_utf16_to_utf8_cut(s, len, text, sizeof text);
    etw_strbuf_puts(out, text);
}

static int64_t ndis_interface(pcapng_state *st, const fragment *f)
{
    int64_t id = pcapng_interface_find(st, &f->key);
    if (id >= 0)
        return id;
    etw_strbuf_reset(&st->name);
    etw_strbuf_reset(&st->desc);
    if (f->key.kind == IFACE_NDIS) {
        pcapng_put_u(&st->name, "ndis miniport ", f->key.a);
        pcapng_put_u(&st->desc, "NDIS miniport interface ", f->key.a);
        pcapng_put_u(&st->desc, ", lower interface ", f->key.b);
        return pcapng_interface_add(st, &f->key);
    }
    /* The switch port: named after its NIC ("Network Adapter" of a VM), else the port. */
    if (f->nic_name_len)
        put_utf16(&st->name, f->nic_name, f->nic_name_len);
    else if (f->port_name_len)
        put_utf16(&st->name, f->port_name, f->port_name_len);
    else
        pcapng_put_u(&st->name, "vmswitch port ", f->key.a);
    pcapng_put_u(&st->desc, "VMSwitch port ", f->key.a);
    etw_strbuf_puts(&st->desc, f->port_name_len ? " " : "");
    put_utf16(&st->desc, f->port_name, f->port_name_len);
    if (f->nic_type_len) {
        etw_strbuf_puts(&st->desc, ", NIC type ");
        put_utf16(&st->desc, f->nic_type, f->nic_type_len);
    }
    pcapng_put_u(&st->desc, ", miniport interface ", f->key.b);
    pcapng_put_u(&st->desc, ", lower interface ", f->key.c);
    return pcapng_interface_add(st, &f->key);
}

/* Joins f into its packet; writes the packet when f ends it. */
static void fragment_packet(pcapng_state *st, const EVENT_RECORD *er, export_context *cx, const fragment *f)
{
    uint64_t kw = er->EventHeader.EventDescriptor.Keyword;
    int start = (kw & NDIS_KW_PACKET_START) != 0, end = (kw & NDIS_KW_PACKET_END) != 0;
    const uint8_t *data = f->data;
    uint32_t len = f->size;
    pcapng_pending *q = pending_for(st, &f->key, 0);
    if (start && q) {
        st->skipped++; /* a packet whose end never came */
        etw_strbuf_reset(&q->bytes);
    }
    if (!end || q) {
        if (!q)
            q = pending_for(st, &f->key, 1);
        if (!q || pending_append(q, f->data, f->size) != 0) {
            st->skipped++;
            if (q)
                q->used = 0;
            return;
        }
        if (!end)
            return;
        data = (const uint8_t *)q->bytes.data;
        len = (uint32_t)q->bytes.len;
        q->used = 0;
        st->fragments_joined++;
    }
    int64_t if_id = ndis_interface(st, f);
    if (if_id < 0) {
        st->skipped++;
        return;
    }
    pcapng_process_comment(st, er, cx);
    if (f->key.kind == IFACE_VMSWITCH) {
        pcapng_put_u(&st->comment, "; vmswitch port ", f->key.a);
        pcapng_put_u(&st->comment, " destinations ", f->destinations);
    }
    uint32_t flags = kw & NDIS_KW_SEND ? PCAPNG_FLAG_OUTBOUND : kw & NDIS_KW_RECEIVE ? PCAPNG_FLAG_INBOUND : 0;
    pcapng_write_packet(&st->w, (uint32_t)if_id, export_unix_100ns(er->EventHeader.TimeStamp.QuadPart),
                        data, len, len, flags, st->comment.data);
    st->packets++;
}

/* What both events begin with (MiniportIfIndex, LowerIfIndex, then for 1003 SourcePortId):
 * the interface key. 0 when the event is too short (counted as not converted). */
static int fragment_begin(pcapng_state *st, const EVENT_RECORD *er, uint32_t kind, fragment *f)
{
    const uint8_t *p = er->UserData;
    memset(f, 0, sizeof *f);
    if (!p || er->UserDataLength < 12) {
        st->skipped++;
        return 0;
    }
    uint32_t miniport = etw_rd32(p), lower = etw_rd32(p + 4);
    uint16_t linktype = media_linktype(er->EventHeader.EventDescriptor.Keyword);
    f->key = kind == IFACE_NDIS ? (pcapng_iface_key){IFACE_NDIS, miniport, lower, 0, linktype}
                                : (pcapng_iface_key){IFACE_VMSWITCH, etw_rd32(p + 8), miniport, lower, linktype};
    return 1;
}

/* Event 1001: MiniportIfIndex, LowerIfIndex, FragmentSize, Fragment (then, on newer systems,
 * GFT fields, not used). */
void pcapng_ndis_fragment(pcapng_state *st, const EVENT_RECORD *er, export_context *cx)
{
    fragment f;
    if (!fragment_begin(st, er, IFACE_NDIS, &f))
        return;
    const uint8_t *p = er->UserData;
    size_t n = er->UserDataLength;
    f.size = etw_rd32(p + 8);
    if (f.size > n - 12)
        f.size = (uint32_t)(n - 12); /* never past the event's bytes */
    f.data = p + 12;
    fragment_packet(st, er, cx, &f);
}

/* Event 1003: MiniportIfIndex, LowerIfIndex, SourcePortId, SourcePortName, SourceNicName,
 * SourceNicType (UTF-16, NUL-terminated), DestinationCount, Destination (8 bytes each),
 * FragmentSize, Fragment, OOBDataSize, OOBData. */
void pcapng_vmswitch_fragment(pcapng_state *st, const EVENT_RECORD *er, export_context *cx)
{
    fragment f;
    if (!fragment_begin(st, er, IFACE_VMSWITCH, &f))
        return;
    const uint8_t *p = er->UserData;
    size_t n = er->UserDataLength;
    size_t off = 12;
    f.port_name = string_field(p, n, &off, &f.port_name_len);
    f.nic_name = string_field(p, n, &off, &f.nic_name_len);
    f.nic_type = string_field(p, n, &off, &f.nic_type_len);
    if (n - off < 4) {
        st->skipped++;
        return;
    }
    f.destinations = etw_rd32(p + off);
    off += 4;
    if (f.destinations > (n - off) / 8 || n - off - 8 * (size_t)f.destinations < 4) {
        st->skipped++;
        return;
    }
    off += 8 * (size_t)f.destinations;
    f.size = etw_rd32(p + off);
    off += 4;
    if (f.size > n - off)
        f.size = (uint32_t)(n - off);
    f.data = p + off;
    fragment_packet(st, er, cx, &f);
}

void pcapng_ndis_finish(pcapng_state *st)
{
    for (unsigned i = 0; i < PCAPNG_MAX_PENDING; i++) {
        if (st->pend[i].used)
            st->skipped++;
        etw_strbuf_free(&st->pend[i].bytes);
    }
}
