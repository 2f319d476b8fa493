/* The pcapng exporter on events made to the providers' layouts (docs/export.md): NDIS packet
 * fragments (1001) and VMSwitch fragments (1003) joined from PACKET_START to PACKET_END, their
 * bytes equal to what TDH decodes from the same events with the built-in schemas, link types
 * from the media keywords, directions, interface names, pktmon drops marked, truncated
 * payloads never read past, and the file read back block by block and by tshark. (The corpus
 * pktmon capture is checked with tshark in tests/cli.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#include <etwire/tdh.h>

#include "export.h"

uint64_t export_unix_100ns(int64_t filetime)
{
    return (uint64_t)filetime;
}

static const GUID ndiscap = {0x2ed6006e, 0x4729, 0x4609, {0xb4, 0x23, 0x3e, 0xe7, 0xbc, 0xd6, 0x78, 0xef}};
static const GUID pktmon = {0x4d4f80d9, 0xc8bd, 0x4d73, {0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}};

#define KW_START 0x40000000ull
#define KW_END 0x80000000ull
#define KW_SEND 0x100000000ull
#define KW_RECEIVE 0x200000000ull
#define KW_WIFI 0x10000ull

typedef struct packet {
    uint32_t iface, captured, original, flags;
    uint64_t time;
    uint8_t data[256];
    char comment[256];
} packet;

typedef struct capture {
    uint16_t linktypes[16];
    char names[16][64];
    unsigned n_ifaces;
    packet packets[16];
    unsigned n_packets;
} capture;

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Reads the pcapng back: every block's two lengths agree, IDBs and EPBs collected. */
static void read_capture(FILE *f, capture *c)
{
    memset(c, 0, sizeof *c);
    long size = ftell(f);
    assert_true(size > 0);
    uint8_t *buf = malloc((size_t)size);
    assert_non_null(buf);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    size_t off = 0;
    assert_int_equal(rd32(buf), 0x0A0D0D0A);
    while (off < (size_t)size) {
        assert_true((size_t)size - off >= 12);
        uint32_t type = rd32(buf + off), len = rd32(buf + off + 4);
        assert_true(len >= 12 && len % 4 == 0 && len <= (size_t)size - off);
        assert_int_equal(rd32(buf + off + len - 4), len);
        const uint8_t *b = buf + off + 8;
        if (type == 1) {
            const uint8_t *o = b + 8;
            while (rd16(o) != 0) {
                uint16_t code = rd16(o), olen = rd16(o + 2);
                if (code == 2 && olen < sizeof c->names[0])
                    memcpy(c->names[c->n_ifaces], o + 4, olen);
                o += 4 + ((olen + 3u) & ~3u);
            }
            c->linktypes[c->n_ifaces++] = rd16(b);
        } else if (type == 6) {
            packet *p = &c->packets[c->n_packets++];
            p->iface = rd32(b);
            p->time = (uint64_t)rd32(b + 4) << 32 | rd32(b + 8);
            p->captured = rd32(b + 12);
            p->original = rd32(b + 16);
            assert_true(p->captured <= sizeof p->data);
            memcpy(p->data, b + 20, p->captured);
            const uint8_t *o = b + 20 + ((p->captured + 3) & ~3u);
            while (rd16(o) != 0) {
                uint16_t code = rd16(o), olen = rd16(o + 2);
                if (code == 2)
                    p->flags = rd32(o + 4);
                if (code == 1) {
                    assert_true(olen < sizeof p->comment);
                    memcpy(p->comment, o + 4, olen);
                }
                o += 4 + ((olen + 3u) & ~3u);
            }
        }
        off += len;
    }
    free(buf);
}

static void feed(const export_format *fmt, void *st, export_context *cx, const GUID *g, unsigned id,
                 uint64_t keyword, int64_t time, const uint8_t *payload, size_t n)
{
    EVENT_RECORD er;
    memset(&er, 0, sizeof er);
    er.EventHeader.ProviderId = *g;
    er.EventHeader.EventDescriptor.Id = (USHORT)id;
    er.EventHeader.EventDescriptor.Keyword = keyword;
    er.EventHeader.TimeStamp.QuadPart = time;
    er.EventHeader.ProcessId = 1234;
    er.EventHeader.ThreadId = 5678;
    er.EventHeader.Flags = EVENT_HEADER_FLAG_64_BIT_HEADER;
    uint8_t *copy = malloc(n ? n : 1); /* exactly n bytes: reading past is caught */
    assert_non_null(copy);
    memcpy(copy, payload, n);
    er.UserData = copy;
    er.UserDataLength = (USHORT)n;
    etwire_process_tracker_add(cx->processes, &er);
    fmt->event(st, &er, cx);
    free(copy);
}

static size_t ndis_fragment(uint8_t *p, uint32_t miniport, const uint8_t *data, uint32_t n)
{
    memset(p, 0, 12);
    p[0] = (uint8_t)miniport;
    p[4] = 9;
    p[8] = (uint8_t)n;
    memcpy(p + 12, data, n);
    return 12 + n;
}

/* What tshark prints for these fields of every packet (tab-separated lines) into got; 0 when
 * tshark is not installed. */
static int tshark_fields(const char *path, const char *fields, char *got, size_t cap)
{
    if (system("command -v tshark > /dev/null 2>&1") != 0)
        return 0;
    char cmd[512], line[128];
    snprintf(cmd, sizeof cmd, "tshark -r %s -T fields %s 2>/dev/null", path, fields);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    got[0] = '\0';
    while (fgets(line, sizeof line, p) && strlen(got) + strlen(line) < cap)
        strcat(got, line);
    assert_int_equal(pclose(p), 0);
    return 1;
}

/* tshark, when installed, opens the file too and sees the same frame lengths. */
static void tshark_reads(const char *path, const capture *cap)
{
    char got[256], want[256] = "";
    if (!tshark_fields(path, "-e frame.len", got, sizeof got))
        return;
    for (unsigned i = 0; i < cap->n_packets; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%u\n", cap->packets[i].original);
    assert_string_equal(got, want);
}

/* How many times an export asked for a scan of the traces; a scan that finds nothing. */
static unsigned scans;

static void count_scan(export_context *cx)
{
    (void)cx;
    scans++;
}

/* A pcapng export into a temporary file; scan_traces as given (NULL: none). */
typedef struct test_export {
    char path[64];
    FILE *f;
    export_context cx;
    void *st;
} test_export;

static void export_open(test_export *e, void (*scan_traces)(export_context *))
{
    snprintf(e->path, sizeof e->path, "/tmp/etwire-test-pcapng-XXXXXX");
    int fd = mkstemp(e->path);
    assert_true(fd >= 0);
    e->f = fdopen(fd, "w+b");
    assert_non_null(e->f);
    e->cx = (export_context){.out = e->f, .out_path = "(test)", .processes = etwire_process_tracker_create(),
                             .scan_traces = scan_traces};
    e->st = export_pcapng_format.begin(&e->cx);
    assert_non_null(e->st);
}

/* Ends the export and reads the file back; the file stays (unlink e->path). */
static void export_close(test_export *e, capture *cap)
{
    assert_int_equal(export_pcapng_format.end(e->st, &e->cx), 0);
    fflush(e->f);
    read_capture(e->f, cap);
    fclose(e->f);
    etwire_process_tracker_destroy(e->cx.processes);
}

static void ndis_fragments_join(void **state)
{
    (void)state;
    test_export e;
    export_open(&e, NULL);
    uint8_t a[40], b[40], c[40], p[64];
    memset(a, 0xA1, sizeof a);
    memset(b, 0xB2, sizeof b);
    memset(c, 0xC3, sizeof c);
    /* One packet in three fragments on miniport 3 (received), interleaved with a whole packet
     * on miniport 4 (Wi-Fi, sent). */
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1001, KW_START | KW_RECEIVE, 100, p, ndis_fragment(p, 3, a, 14));
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1001, KW_START | KW_END | KW_SEND | KW_WIFI, 101, p,
         ndis_fragment(p, 4, c, 30));
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1001, KW_RECEIVE, 102, p, ndis_fragment(p, 3, b, 20));
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1001, KW_END | KW_RECEIVE, 103, p, ndis_fragment(p, 3, c, 6));
    /* A fragment whose FragmentSize claims more than the event holds: cut to what is there. */
    uint8_t cut[20];
    ndis_fragment(cut, 5, a, 8);
    cut[8] = 200;
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1001, KW_START | KW_END, 104, cut, sizeof cut);
    /* A start that never ends, then the end of nothing. */
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1001, KW_START, 105, p, ndis_fragment(p, 6, a, 5));
    /* pktmon: a dropped packet (event 170) of packet type 3 (IP) that logged 10 of 60 bytes. */
    uint8_t pm[34 + 10];
    memset(pm, 0, sizeof pm);
    pm[12] = 4;  /* DirTag: send */
    pm[14] = 3;  /* PacketType: IP */
    pm[16] = 42; /* ComponentId */
    pm[22] = 7;  /* DropReason */
    pm[30] = 60; /* OriginalPayloadSize */
    pm[32] = 10; /* LoggedPayloadSize */
    memset(pm + 34, 0x45, 10);
    feed(&export_pcapng_format, e.st, &e.cx, &pktmon, 170, 0, 106, pm, sizeof pm);
    /* A pktmon event shorter than its fixed header is not a packet. */
    feed(&export_pcapng_format, e.st, &e.cx, &pktmon, 160, 0, 107, pm, 20);

    capture cap;
    export_close(&e, &cap);
    tshark_reads(e.path, &cap);
    unlink(e.path);
    assert_int_equal(cap.n_packets, 4);
    /* Packets go out when complete: the Wi-Fi one first, then the joined one. */
    packet *wifi = &cap.packets[0], *joined = &cap.packets[1], *short_one = &cap.packets[2], *drop = &cap.packets[3];
    assert_int_equal(cap.linktypes[wifi->iface], 105);
    assert_int_equal(wifi->captured, 30);
    assert_int_equal(wifi->flags & 3, 2);
    assert_int_equal(cap.linktypes[joined->iface], 1);
    assert_int_equal(joined->captured, 40);
    assert_int_equal(joined->original, 40);
    assert_memory_equal(joined->data, a, 14);
    assert_memory_equal(joined->data + 14, b, 20);
    assert_memory_equal(joined->data + 34, c, 6);
    assert_int_equal(joined->time, 103);
    assert_int_equal(joined->flags & 3, 1);
    assert_non_null(strstr(joined->comment, "pid 1234"));
    assert_non_null(strstr(joined->comment, "tid 5678"));
    assert_int_equal(short_one->captured, 8);
    assert_int_equal(cap.linktypes[drop->iface], 101);
    assert_int_equal(drop->captured, 10);
    assert_int_equal(drop->original, 60);
    assert_int_equal(drop->flags & 3, 2);
    assert_non_null(strstr(drop->comment, "dropped: reason 7"));
    assert_non_null(strstr(drop->comment, "component 42"));
}

/* pktmon names its components when the capture stops: the first packet of a component not
 * named yet asks for a scan of the traces (export_context.scan_traces), once; the component
 * events the scan shows name the interfaces, the description standing in for pktmon's "NULL". */
static void *scan_state;

static void component_event(EVENT_RECORD *er, uint8_t *p, uint16_t id, const char *name, const char *desc)
{
    size_t o = 4;
    memset(er, 0, sizeof *er);
    er->EventHeader.ProviderId = pktmon;
    er->EventHeader.EventDescriptor.Id = 20;
    p[0] = (uint8_t)id;
    p[1] = (uint8_t)(id >> 8);
    p[2] = 1;
    p[3] = 0;
    const char *strings[2] = {name, desc};
    for (int k = 0; k < 2; k++) {
        for (const char *c = strings[k];; c++) { /* UTF-16LE, NUL-terminated */
            p[o++] = (uint8_t)*c;
            p[o++] = 0;
            if (!*c)
                break;
        }
    }
    er->UserData = p;
    er->UserDataLength = (USHORT)o;
}

static void scan_stub(export_context *cx)
{
    (void)cx;
    scans++;
    EVENT_RECORD er;
    uint8_t p[128];
    component_event(&er, p, 42, "netvsc.sys", "Microsoft Hyper-V Network Adapter #3");
    export_pcapng_format.scan(scan_state, &er);
    component_event(&er, p, 50, "NULL", "NETVSCVFPP");
    export_pcapng_format.scan(scan_state, &er);
}

static void pktmon_names_from_scan(void **state)
{
    (void)state;
    test_export e;
    export_open(&e, scan_stub);
    scan_state = e.st;
    scans = 0;
    uint8_t pm[34 + 4];
    memset(pm, 0, sizeof pm);
    pm[14] = 1; /* Ethernet */
    pm[30] = pm[32] = 4;
    static const uint8_t components[] = {42, 50, 77, 42};
    for (unsigned i = 0; i < 4; i++) {
        pm[16] = components[i];
        feed(&export_pcapng_format, e.st, &e.cx, &pktmon, 160, 0, 300 + i, pm, sizeof pm);
    }
    capture cap;
    export_close(&e, &cap);
    unlink(e.path);
    assert_int_equal(scans, 1);
    assert_int_equal(cap.n_packets, 4);
    assert_int_equal(cap.n_ifaces, 3);
    assert_string_equal(cap.names[cap.packets[0].iface], "netvsc.sys");
    assert_string_equal(cap.names[cap.packets[1].iface], "NETVSCVFPP");
    assert_string_equal(cap.names[cap.packets[2].iface], "pktmon component 77");
    assert_int_equal(cap.packets[3].iface, cap.packets[0].iface);
}

/* A 1003 payload as the provider's manifest lays it out: MiniportIfIndex, LowerIfIndex,
 * SourcePortId, SourcePortName, SourceNicName, SourceNicType (UTF-16, NUL-terminated),
 * DestinationCount, Destination (8 bytes each), FragmentSize, Fragment, OOBDataSize, OOBData. */
static size_t vmswitch_fragment(uint8_t *p, uint32_t port, const char *nic, const uint8_t *data, uint32_t n)
{
    size_t o = 0;
    uint32_t head[3] = {7, 9, port};
    for (int i = 0; i < 3; i++, o += 4)
        memcpy(p + o, &head[i], 4);
    const char *strings[3] = {"Port-5F3A", nic, "Synthetic"};
    for (int i = 0; i < 3; i++) {
        for (const char *c = strings[i];; c++) {
            p[o++] = (uint8_t)*c;
            p[o++] = 0;
            if (!*c)
                break;
        }
    }
    uint32_t dests = 2;
    memcpy(p + o, &dests, 4);
    o += 4;
    memset(p + o, 0xDD, 16);
    o += 16;
    memcpy(p + o, &n, 4);
    o += 4;
    memcpy(p + o, data, n);
    o += n;
    uint32_t oob = 6;
    memcpy(p + o, &oob, 4);
    o += 4;
    memset(p + o, 0x0B, oob);
    return o + oob;
}

/* What TDH decodes from the same event: the Fragment property's bytes appended to *got, and
 * the SourceNicName as ASCII. */
static void tdh_fragment(const uint8_t *payload, size_t n, uint64_t keyword, uint8_t *got, size_t *got_len, char *nic)
{
    EVENT_RECORD er;
    memset(&er, 0, sizeof er);
    er.EventHeader.ProviderId = ndiscap;
    er.EventHeader.EventDescriptor.Id = 1003;
    er.EventHeader.EventDescriptor.Keyword = keyword;
    er.EventHeader.Flags = EVENT_HEADER_FLAG_64_BIT_HEADER;
    er.UserData = (void *)payload;
    er.UserDataLength = (USHORT)n;
    PROPERTY_DATA_DESCRIPTOR d = {0};
    d.PropertyName = (ULONGLONG)(uintptr_t)u"Fragment";
    d.ArrayIndex = 0xFFFFFFFFu; /* the whole property, not an element */
    ULONG size = 0;
    assert_int_equal(TdhGetPropertySize(&er, 0, NULL, 1, &d, &size), ERROR_SUCCESS);
    assert_int_equal(TdhGetProperty(&er, 0, NULL, 1, &d, size, got + *got_len), ERROR_SUCCESS);
    *got_len += size;
    WCHAR wide[64];
    d.PropertyName = (ULONGLONG)(uintptr_t)u"SourceNicName";
    assert_int_equal(TdhGetPropertySize(&er, 0, NULL, 1, &d, &size), ERROR_SUCCESS);
    assert_true(size <= sizeof wide);
    assert_int_equal(TdhGetProperty(&er, 0, NULL, 1, &d, size, (PBYTE)wide), ERROR_SUCCESS);
    size_t i = 0;
    for (; i < size / 2 && wide[i]; i++)
        nic[i] = (char)wide[i];
    nic[i] = '\0';
}

/* tshark, when installed, names each packet's interface as the file does. */
static void tshark_names(const char *path, const char *want)
{
    char got[512];
    if (tshark_fields(path, "-e frame.interface_name -e frame.len", got, sizeof got))
        assert_string_equal(got, want);
}

#define KW_VMSWITCH 0x1000000ull

static void vmswitch_fragments_join(void **state)
{
    (void)state;
    test_export e;
    export_open(&e, count_scan); /* no pktmon packets: never asks for a scan */
    scans = 0;
    uint8_t bytes[90], p[256], tdh_bytes[256], single_tdh[64];
    for (unsigned i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 7 + 1);
    size_t tdh_len = 0, single_len = 0;
    char nic[64], single_nic[64];
    /* One packet in three fragments from port 5 (sent), and between them a whole packet from
     * port 6 (received); then a 1003 whose counts run past its bytes. */
    static const uint32_t cuts[] = {0, 30, 75, 90};
    static const uint64_t kws[] = {KW_START | KW_SEND | KW_VMSWITCH, KW_SEND | KW_VMSWITCH, KW_END | KW_SEND | KW_VMSWITCH};
    for (int i = 0; i < 3; i++) {
        size_t n = vmswitch_fragment(p, 5, "VM1 Network Adapter", bytes + cuts[i], cuts[i + 1] - cuts[i]);
        tdh_fragment(p, n, kws[i], tdh_bytes, &tdh_len, nic);
        feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1003, kws[i], 200 + i, p, n);
        if (i == 0) {
            n = vmswitch_fragment(p, 6, "", bytes, 20);
            tdh_fragment(p, n, KW_START | KW_END | KW_RECEIVE | KW_VMSWITCH, single_tdh, &single_len, single_nic);
            feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1003, KW_START | KW_END | KW_RECEIVE | KW_VMSWITCH, 210, p, n);
        }
    }
    size_t n = vmswitch_fragment(p, 8, "X", bytes, 4);
    p[12 + 2 * 10 + 2 * 2 + 2 * 10] = 0xFF; /* DestinationCount 255: 2040 bytes that are not there */
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1003, KW_START | KW_END | KW_VMSWITCH, 220, p, n);
    feed(&export_pcapng_format, e.st, &e.cx, &ndiscap, 1003, KW_START | KW_END | KW_VMSWITCH, 221, p, 17);

    capture cap;
    export_close(&e, &cap);
    tshark_names(e.path, "Port-5F3A\t20\nVM1 Network Adapter\t90\n");
    unlink(e.path);
    assert_int_equal(scans, 0);
    assert_int_equal(cap.n_packets, 2);
    packet *single = &cap.packets[0], *joined = &cap.packets[1];
    /* The exported bytes are what TDH decodes as Fragment, joined in order. */
    assert_int_equal(tdh_len, sizeof bytes);
    assert_memory_equal(tdh_bytes, bytes, sizeof bytes);
    assert_int_equal(joined->captured, tdh_len);
    assert_memory_equal(joined->data, tdh_bytes, tdh_len);
    assert_int_equal(joined->time, 202);
    assert_int_equal(joined->flags & 3, 2);
    assert_int_equal(cap.linktypes[joined->iface], 1);
    assert_string_equal(cap.names[joined->iface], nic);
    assert_string_equal(nic, "VM1 Network Adapter");
    assert_non_null(strstr(joined->comment, "vmswitch port 5 destinations 2"));
    assert_int_equal(single->captured, single_len);
    assert_memory_equal(single->data, single_tdh, single_len);
    assert_int_equal(single->flags & 3, 1);
    /* No NIC name: the port's name. */
    assert_string_equal(single_nic, "");
    assert_string_equal(cap.names[single->iface], "Port-5F3A");
    assert_int_not_equal(single->iface, joined->iface);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ndis_fragments_join),
        cmocka_unit_test(vmswitch_fragments_join),
        cmocka_unit_test(pktmon_names_from_scan),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
