/* Built-in SystemConfig / SysConfigEx / WinSAT schemas against the real events of the corpus
 * (../shared/corpus; skipped when absent): every event of the layouts added from the data must
 * consume its payload exactly and give the values checked below. Plus WinSAT XML inflation
 * over hand-built payloads, corrupt ones included. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <sys/stat.h>

#include <etwire/etwire.h>

#include "base/text.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/decode/winsat.h"

static const GUID sysconfig_guid = {0x01853a65, 0x418f, 0x4f36, {0xae, 0xfc, 0xdc, 0x0f, 0x1d, 0x2f, 0xd2, 0x35}};
static const GUID sysconfigex_guid = {0x9b79ee91, 0xb5fd, 0x41c0, {0xa2, 0x43, 0x42, 0x48, 0xe2, 0x66, 0xe9, 0xd0}};
static const GUID winsat_guid = {0xed54dff8, 0xc409, 0x4cf6, {0xbf, 0x83, 0x05, 0xe1, 0xe6, 0x1a, 0x09, 0xc4}};
static const GUID perftrack_guid = {0xbf6ef1cb, 0x89b5, 0x490a, {0x80, 0xac, 0xb1, 0x80, 0xcf, 0xbc, 0xff, 0x0f}};

/* What one replay saw: per opcode of interest, how many events, how many consumed exactly,
 * and every formatted line (name + fields) for substring checks. */
typedef struct seen {
    int events, exact, winsat_xml;
    etw_strbuf lines;
    etw_winsat_scratch ws;
} seen;

static seen *cur;

static int walk_none(void *ctx, const etw_walk_item *it)
{
    (void)ctx;
    (void)it;
    return 0;
}

/* Opcodes whose rows came from this work (the older SystemConfig rows are checked by the
 * oracle test). */
static int of_interest(const EVENT_RECORD *r)
{
    unsigned op = r->EventHeader.EventDescriptor.Opcode;
    const GUID *g = &r->EventHeader.ProviderId;
    if (etw_guid_equal(g, &sysconfig_guid))
        return op == 14 || op == 17 || op == 18 || op == 21 || op == 22 || op == 23 || op == 25 || op == 28 || op == 30 ||
               op == 33 || op == 35;
    if (etw_guid_equal(g, &sysconfigex_guid))
        return op == 36 || op == 37;
    return etw_guid_equal(g, &winsat_guid) || etw_guid_equal(g, &perftrack_guid);
}

static void WINAPI on_event(PEVENT_RECORD rec)
{
    seen *s = cur;
    etw_strbuf prov = {0}, name = {0};
    etw_event_describe(rec, &prov, &name);
    if (!of_interest(rec)) {
        etw_strbuf_free(&prov);
        etw_strbuf_free(&name);
        return;
    }
    s->events++;
    etw_schema sc;
    assert_true(etw_schema_for_record(rec, &sc));
    size_t used = 0, n = rec->UserDataLength;
    assert_int_equal(etw_walk(sc.info, rec->UserData, n, etw_event_pointer_size(rec, 0, NULL), walk_none, NULL,
                              &used),
                     0);
    if (used == n) {
        s->exact++;
    } else {
        /* WinSAT / PerfTrack manifests: the schema names the 8- / 4-byte header; the LZNT1 XML
         * follows. */
        int winsat = etw_guid_equal(&rec->EventHeader.ProviderId, &winsat_guid);
        assert_true(winsat || etw_guid_equal(&rec->EventHeader.ProviderId, &perftrack_guid));
        assert_int_equal(used, winsat ? 8 : 4);
    }
    etw_strbuf fields = {0};
    assert_int_equal(etw_event_format_fields(rec, 0, &fields), 1);
    if (etw_winsat_append_xml(rec, 0, &s->ws, &fields) == 1)
        s->winsat_xml++;
    etw_strbuf_printf(&s->lines, "%s/%s %s\n", prov.data, name.data, fields.data ? fields.data : "");
    etw_strbuf_free(&fields);
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
}

static void replay(const char *rel, seen *s)
{
    const char *path = TEST_NEED_CORPUS_FILE(rel);
    memset(s, 0, sizeof *s);
    cur = s;
    etwire_tdh_reset();
    ETW_OPEN_TRACE_OPTIONS opts;
    memset(&opts, 0, sizeof opts);
    opts.EventCallback = on_event;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &opts, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
    assert_non_null(s->lines.data);
}

static void release(seen *s)
{
    etw_strbuf_free(&s->lines);
    etw_winsat_scratch_free(&s->ws);
}

static void has(const seen *s, const char *needle)
{
    if (!strstr(s->lines.data, needle))
        fail_msg("missing: %s", needle);
}

static void test_sysconfig_net45(void **state)
{
    (void)state;
    seen s;
    replay("traceevent/net.4.5.x86-PerfViewData.etl", &s);
    /* 1 Video + 1 Network + 117 PnP v3 + 2 IDEChannel + 1 Platform + 13 IRQ v3 */
    assert_int_equal(s.events, 135);
    assert_int_equal(s.exact, 135);
    /* The values TraceEvent's oracle lists for these events. */
    has(&s, "SystemConfig/Video MemorySize=8388608; XResolution=0; YResolution=0; BitsPerPixel=0; VRefresh=0; "
            "ChipType=Microsoft VMBus Video Device; DACType=None; AdapterString=Microsoft VMBus Video Device; "
            "BiosString=Microsoft VMBus Video Device; DeviceID=Microsoft Hyper-V Video; StateFlags=0x0\n");
    has(&s, "SystemConfig/Network TcbTablePartitions=32; MaxHashTableSize=-1; MaxUserPort=65536; TcpTimedWaitDelay=120\n");
    has(&s, "SystemConfig/IDEChannel TargetID=0; DeviceType=2; DeviceTimingMode=0x410; LocationInformationLen=9; "
            "LocationInformation=Channel 1\n");
    has(&s, "SystemConfig/PnP IDLength=32; DescriptionLength=12; FriendlyNameLength=14; "
            "DeviceID=PCIIDE\\IDECHANNEL\\4&DB9BF5A&0&0; DeviceDescription=IDE Channel; FriendlyName=ATA Channel 0; "
            "PdoName=\\Device\\Ide\\PciIde0Channel0\n");
    /* IRQ v3: the number sits at offset 12 (TraceEvent reads offset 8 and prints 0). */
    has(&s, "SystemConfig/IRQ IRQAffinity=0xffffffff; IRQGroup=0; Reserved=0; IRQNum=14; DeviceDescriptionLen=32; "
            "DeviceDescription=PCIIDE\\IDECHANNEL\\4&DB9BF5A&0&0\n");
    has(&s, "SystemConfig/Platform SystemManufacturer=Microsoft Corporation; SystemProductName=Virtual Machine; "
            "BiosDate=05/23/2012; BiosVersion=090006\n");
    release(&s);
}

static void test_sysconfig_net452(void **state)
{
    (void)state;
    seen s;
    replay("traceevent/net.4.5.2.x86.etl", &s);
    assert_int_equal(s.events, s.exact); /* PnP v4, OpticalMedia, Network, IDEChannel, Platform, DPI */
    has(&s, "SystemConfig/PnP ClassGuid=4d36e97d-e325-11ce-bfc1-08002be10318; UpperFilterCount=0; "
            "LowerFilterCount=0; DeviceID=ACPI\\PNP0C01\\1; DeviceDescription=System board; FriendlyName=; "
            "PdoName=\\Device\\00000018; ServiceName=\n");
    has(&s, "PdoName=\\Device\\0000002b; ServiceName=Serial; UpperFilters=[serenum]\n");
    has(&s, "PdoName=\\Device\\00000003; ServiceName=NdisWan; UpperFilters=[]; LowerFilters=[NdisTapi]\n");
    has(&s, "SystemConfig/OpticalMedia DiskNumber=0; BusType=2; DeviceType=5; MediaType=16; StartingOffset=0; "
            "Size=0; NumberOfFreeBlocks=0; TotalNumberOfBlocks=0; NextWritableAddress=0; NumberOfSessions=0; "
            "NumberOfTracks=0; BytesPerSector=2048; DiscStatus=0; LastSessionStatus=0; DriveLetter=D:; "
            "FileSystemName=UDF; DeviceName=Virtual CD/ROM  ; ManufacturerName=Msft    \n");
    has(&s, "SystemConfig/DPI MachineDPI=96; UserDPI=96\n");
    has(&s, "SysConfig/DeviceFamily UAPInfo=0x0; DeviceFamily=0; DeviceForm=0\n");
    release(&s);
}

static void test_sysconfig_diaghub(void **state)
{
    (void)state;
    seen s;
    replay("traceevent/diaghub/diaghub.kernel.1.etl", &s);
    assert_int_equal(s.events, s.exact);
    assert_true(s.events >= 101 + 4 + 2 + 1 + 1 + 1 + 1);
    has(&s, "SystemConfig/PnP ClassGuid=4d36e97d-e325-11ce-bfc1-08002be10318; UpperFilterCount=0; "
            "LowerFilterCount=0; DevStatus=0x180200a; DevProblem=0; "
            "DeviceID=PCI\\VEN_1414&DEV_5353&SUBSYS_00000000&REV_00\\3&267A616A&1&40; "
            "DeviceDescription=Microsoft Hyper-V S3 Cap; FriendlyName=; PdoName=\\Device\\NTPNP_PCI0004; "
            "ServiceName=s3cap\n");
    has(&s, "DeviceID=IDE\\DISKVIRTUAL_HD______________________________1.1.0___\\5&2D5F53A1&0&0.0.0; "
            "DeviceDescription=Microsoft Hyper-V Accelerated Disk Drive; FriendlyName=Virtual HD ATA Device; "
            "PdoName=\\Device\\Ide\\IdeDeviceP0T0L0-0; ServiceName=disk; UpperFilters=[]; LowerFilters=[storflt]\n");
    has(&s, "SystemConfig/Processor ProcessorIndex=3; FeatureSet=0x3d1b3dff; ProcessorSpeed=2295; "
            "ProcessorName=Intel(R) Xeon(R) CPU E5-2673 v4 @ 2.30GHz; "
            "ProcessorIdentifier=Intel64 Family 6 Model 79 Stepping 1; VendorIdentifier=GenuineIntel\n");
    /* 10.0.19041.450, Windows.Desktop: the same triple SysConfigEx/DeviceFamily carries. */
    has(&s, "SystemConfig/DeviceFamily UAPInfo=0xa00004a6101c2; DeviceFamily=3; DeviceForm=0\n");
    has(&s, "SystemConfig/MachineId MachineId=b3b0fa5f-3c87-4542-b08d-7886ea577083\n");
    release(&s);
}

static void test_sysconfigex_pktmon(void **state)
{
    (void)state;
    seen s;
    replay("pktmon/demikernel-PktMon-compressed.etl", &s);
    assert_int_equal(s.events, 26); /* 25 NetworkInterface + 1 DeviceFamily */
    assert_int_equal(s.exact, 26);
    has(&s, "SysConfig/NetworkInterface InterfaceLuid=0x6000000000000; InterfaceIndex=14; "
            "InterfaceGuid=8eb236e3-2520-11ef-86c9-806e6f6e6963; "
            "Alias=Ethernet 2-WFP Native MAC Layer LightWeight Filter-0000; "
            "Description=Microsoft Hyper-V Network Adapter #2-WFP Native MAC Layer LightWeight Filter-0000; "
            "PhysicalAddressLength=6; PhysicalAddress=0x0022487bb099");
    has(&s, "Mtu=1500; Type=6; TunnelType=0; MediaType=0; PhysicalMediumType=0; AccessType=2; DirectionType=0; "
            "InterfaceAndOperStatusFlags=0x2; OperStatus=1; AdminStatus=1; MediaConnectState=1; "
            "NetworkGuid=fde23e59-0f14-11ef-86bd-806e6f6e6963; ConnectionType=1; Padding=0; "
            "TransmitLinkSpeed=50000000000; ReceiveLinkSpeed=50000000000; InOctets=2069897172; "
            "InUcastPkts=2585852;");
    /* 10.0.20348.2461, Windows.Server (9): Windows Server 2022, as the header's build says. */
    has(&s, "SysConfig/DeviceFamily UAPInfo=0xa00004f7c099d; DeviceFamily=9; DeviceForm=0\n");
    release(&s);
}

static void test_winsat_corpus(void **state)
{
    (void)state;
    seen s;
    replay("traceevent/SelfDescribingSingleEvent.etl", &s);
    assert_int_equal(s.winsat_xml, 3);
    has(&s, "WinSATAssessment/WinSAT/WinSPR Version=1; UncompressedSize=1052; "
            "Xml=<WinSPR><SystemScore>8</SystemScore><MemoryScore>9.2</MemoryScore>");
    has(&s, "</LimitsApplied></WinSPR>\n");
    has(&s, "WinSATAssessment/WinSAT/Metrics Version=1; UncompressedSize=2348; Xml=<Metrics><CPUMetrics>");
    has(&s, "WinSATAssessment/WinSAT/SystemConfig Version=1; UncompressedSize=17888; Xml=<SystemConfig>");
    has(&s, "<BuildLab>22000.co_release.210604-1628</BuildLab>");
    release(&s);
}

/* PerfTrack metadata in a relogged trace: 52 scenario manifests (UTF-8 XML) and 8
 * interaction classes, every one decoded exactly; 3 WinSAT events beside them. */
static void test_perftrack_corpus(void **state)
{
    (void)state;
    seen s;
    replay("uiforetw/out-relogged.etl", &s);
    assert_int_equal(s.winsat_xml, 52 + 3);
    assert_int_equal(s.events, 60 + 3 + 37); /* + 37 SysConfig NetworkInterface */
    has(&s, "PerfTrack/PerfTrack/ScenarioManifest UncompressedSize=635; Xml=<?xml version='1.0' encoding='utf-8' "
            "standalone='yes'?>");
    has(&s, "name=\"Shell-AltTab-Invoke\" sqmid=\"128\" tags=\"Shell\">");
    has(&s, "PerfTrack/PerfTrack/InteractionClass Name=Typical; Threshold=60000\n");
    has(&s, "PerfTrack/PerfTrack/InteractionClass Name=LongRunning; Threshold=6000000\n");
    release(&s);
}

/* --- hand-built WinSAT payloads --- */

/* LZNT1 with every chunk stored uncompressed (header 0x3000 | (size - 1), [MS-XCA] 2.5):
 * enough to build exact test inputs without a compressor. */
static size_t lznt1_stored(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4096) {
        size_t len = n - i < 4096 ? n - i : 4096;
        uint16_t hdr = (uint16_t)(0x3000 | (len - 1));
        out[o++] = (uint8_t)hdr;
        out[o++] = (uint8_t)(hdr >> 8);
        memcpy(out + o, in + i, len);
        o += len;
    }
    return o;
}

static EVENT_RECORD winsat_rec(unsigned opcode, const uint8_t *p, size_t n)
{
    EVENT_RECORD r;
    memset(&r, 0, sizeof r);
    r.EventHeader.ProviderId = winsat_guid;
    r.EventHeader.Flags = EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER;
    r.EventHeader.EventDescriptor.Opcode = (UCHAR)opcode;
    r.UserData = (void *)(uintptr_t)p;
    r.UserDataLength = (USHORT)n;
    return r;
}

static size_t build_winsat(const char *xml, uint8_t *out, uint32_t declared)
{
    uint8_t u16[256];
    size_t n = strlen(xml);
    for (size_t i = 0; i < n; i++) {
        u16[2 * i] = (uint8_t)xml[i];
        u16[2 * i + 1] = 0;
    }
    u16[2 * n] = u16[2 * n + 1] = 0;
    uint32_t size = declared ? declared : (uint32_t)(2 * n + 2);
    out[0] = 1, out[1] = out[2] = out[3] = 0;
    out[4] = (uint8_t)size, out[5] = (uint8_t)(size >> 8), out[6] = (uint8_t)(size >> 16), out[7] = (uint8_t)(size >> 24);
    return 8 + lznt1_stored(u16, 2 * n + 2, out + 8);
}

static void test_winsat_handbuilt(void **state)
{
    (void)state;
    etwire_tdh_reset();
    etw_winsat_scratch ws = {0};
    uint8_t p[600];
    size_t n = build_winsat("<WinSPR><A x=\"1\">\"q\"</A></WinSPR>", p, 0);
    EVENT_RECORD r = winsat_rec(33, p, n);

    etw_strbuf out = {0};
    assert_int_equal(etw_event_format_fields(&r, 0, &out), 1);
    assert_int_equal(etw_winsat_append_xml(&r, 0, &ws, &out), 1);
    assert_string_equal(out.data, "Version=1; UncompressedSize=68; Xml=<WinSPR><A x=\"1\">\"q\"</A></WinSPR>");
    uint8_t *first_buf = ws.buf;

    etw_strbuf_reset(&out);
    assert_int_equal(etw_event_format_fields(&r, 1, &out), 1);
    assert_int_equal(etw_winsat_append_xml(&r, 1, &ws, &out), 1);
    assert_string_equal(out.data,
                        "\"Version\":1,\"UncompressedSize\":68,\"Xml\":\"<WinSPR><A x=\\\"1\\\">\\\"q\\\"</A></WinSPR>\"");
    assert_ptr_equal(ws.buf, first_buf); /* the scratch is reused, not reallocated */

    /* Declared size larger than what the stream inflates to: an error, the bytes in hex. */
    n = build_winsat("<M/>", p, 12);
    r = winsat_rec(35, p, n);
    etw_strbuf_reset(&out);
    assert_int_equal(etw_winsat_append_xml(&r, 0, &ws, &out), 0);
    assert_string_equal(out.data, "CompressedXml=0x09303c004d002f003e000000; XmlError=corrupt LZNT1 data");

    /* A chunk header claiming more bytes than the payload holds (truncated stream). */
    n = build_winsat("<SystemConfig/>", p, 0);
    r = winsat_rec(37, p, n - 4);
    etw_strbuf_reset(&out);
    assert_int_equal(etw_winsat_append_xml(&r, 1, &ws, &out), 0);
    assert_non_null(strstr(out.data, "\"XmlError\":\"corrupt LZNT1 data\""));

    /* Implausible sizes are refused before any allocation. */
    const uint8_t *xml;
    size_t xml_n;
    etw_winsat_scratch fresh = {0};
    uint8_t big[16] = {1, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0xb0};
    assert_int_equal(etw_winsat_inflate(big, sizeof big, &fresh, &xml, &xml_n), ETW_WINSAT_ESIZE);
    assert_null(fresh.buf);
    uint8_t odd[10] = {1, 0, 0, 0, 3, 0, 0, 0, 0, 0};
    assert_int_equal(etw_winsat_inflate(odd, sizeof odd, &fresh, &xml, &xml_n), ETW_WINSAT_ESIZE);
    assert_int_equal(etw_winsat_inflate(odd, 7, &fresh, &xml, &xml_n), ETW_WINSAT_ESHORT);
    assert_null(fresh.buf);

    /* Garbage after the header: every byte value as a chunk header must fail cleanly. */
    for (unsigned v = 0; v < 256; v++) {
        uint8_t g[40];
        memset(g, (int)v, sizeof g);
        g[0] = 1, g[1] = g[2] = g[3] = 0, g[4] = 64, g[5] = g[6] = g[7] = 0;
        int rc = etw_winsat_inflate(g, sizeof g, &ws, &xml, &xml_n);
        assert_true(rc == ETW_WINSAT_OK || rc == ETW_WINSAT_ECORRUPT);
    }

    /* Not a WinSAT event: nothing appended. */
    EVENT_RECORD other = winsat_rec(33, p, n);
    other.EventHeader.ProviderId = sysconfig_guid;
    etw_strbuf_reset(&out);
    assert_int_equal(etw_winsat_append_xml(&other, 0, &ws, &out), -1);
    assert_int_equal(out.len, 0);

    etw_strbuf_free(&out);
    etw_winsat_scratch_free(&ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sysconfig_net45),    cmocka_unit_test(test_sysconfig_net452),
        cmocka_unit_test(test_sysconfig_diaghub),  cmocka_unit_test(test_sysconfigex_pktmon),
        cmocka_unit_test(test_winsat_corpus),      cmocka_unit_test(test_winsat_handbuilt),
        cmocka_unit_test(test_perftrack_corpus),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
