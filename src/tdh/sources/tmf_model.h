/* WPP trace message formats compiled from TMF text (docs/decoding.md, "WPP"). One message is
 * one self-contained, position-independent blob: a fixed header, its arguments, their value
 * names (enums, lists, bit sets) and the strings, all addressed by offsets from the blob's
 * start. The same bytes live in memory and in the schema store, so a blob read back from disk
 * is accepted only after etw_wpp_msg_check. Little-endian layout (as every ETW structure). */
#ifndef ETWIRE_TDH_TMF_MODEL_H
#define ETWIRE_TDH_TMF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/wintypes.h>

/* Argument types: the TMF's Item<Type> names. */
enum etw_wpp_item {
    ETW_WPP_UNKNOWN = 0, /* an item the parser does not know: decoding stops before it */
    ETW_WPP_CHAR,        /* ItemChar, ItemCharSign: 1 byte, signed */
    ETW_WPP_UCHAR,       /* ItemUChar: 1 byte */
    ETW_WPP_SHORT,       /* ItemShort: 2 bytes, signed */
    ETW_WPP_USHORT,      /* ItemUShort, ItemCharShort: 2 bytes */
    ETW_WPP_LONG,        /* ItemLong: 4 bytes, signed */
    ETW_WPP_ULONG,       /* ItemULong */
    ETW_WPP_ULONGX,      /* ItemULongX: shown in hex */
    ETW_WPP_LONGLONG,    /* ItemLongLong: 8 bytes, signed */
    ETW_WPP_ULONGLONG,   /* ItemULongLong */
    ETW_WPP_ULONGLONGX,  /* ItemULongLongX, ItemLongLongX */
    ETW_WPP_PTR,         /* ItemPtr: the producer's pointer size */
    ETW_WPP_DOUBLE,      /* ItemDouble: 8 bytes */
    ETW_WPP_STRING,      /* ItemString, ItemRString, ItemMLString: ANSI, NUL-terminated */
    ETW_WPP_WSTRING,     /* ItemWString: UTF-16LE, NUL-terminated */
    ETW_WPP_PSTRING,     /* ItemPString: u16 byte count, then ANSI */
    ETW_WPP_PWSTRING,    /* ItemPWString: u16 byte count, then UTF-16LE */
    ETW_WPP_GUID,        /* ItemGuid, ItemCLSID, ItemIID: 16 bytes */
    ETW_WPP_NTSTATUS,    /* ItemNTSTATUS: 4 bytes, hex */
    ETW_WPP_HRESULT,     /* ItemHRESULT */
    ETW_WPP_WINERROR,    /* ItemWINERROR: 4 bytes, decimal */
    ETW_WPP_IPADDR,      /* ItemIPAddr: 4 bytes, dotted */
    ETW_WPP_PORT,        /* ItemPort: 2 bytes, network order */
    ETW_WPP_SID,         /* ItemSid: 8 + 4 x sub-authority count bytes */
    ETW_WPP_HEXDUMP,     /* ItemHEXDump: u16 byte count, then the bytes */
    ETW_WPP_TIMESTAMP,   /* ItemTimestamp: FILETIME */
    ETW_WPP_CHAR4,       /* ItemChar4: four characters */
    ETW_WPP_ENUM,        /* ItemEnum(name): 4 bytes, value names from an #enumv block */
    ETW_WPP_LIST,        /* ItemListLong/Short/Byte(a,b,...): the value indexes the names */
    ETW_WPP_SET,         /* ItemSetLong/Short/Byte(a,b,...): bit i set names entry i */
    ETW_WPP_ITEM_COUNT
};

/* Message strings, by index into etw_wpp_msg.str. */
enum etw_wpp_str {
    ETW_WPP_S_PROVIDER,  /* the GUID line's friendly name (tracefmt's %1) */
    ETW_WPP_S_NAME,      /* the message name, "file_ext<line>" (tracefmt's %2) */
    ETW_WPP_S_FILE,      /* the source file (SRC= on the GUID line) */
    ETW_WPP_S_FUNC,      /* FUNC= */
    ETW_WPP_S_LEVEL,     /* LEVEL= */
    ETW_WPP_S_FLAGS,     /* FLAGS= */
    ETW_WPP_S_COMPNAME,  /* COMPNAME= */
    ETW_WPP_S_SUBCOMP,   /* SUBCOMP= */
    ETW_WPP_S_FORMAT,    /* the format string */
    ETW_WPP_S_TAIL,      /* the whole comment tail, for other %!NAME! items */
    ETW_WPP_S_COUNT
};

typedef struct etw_wpp_arg {
    uint8_t type;    /* enum etw_wpp_item */
    uint8_t width;   /* bytes of an ENUM, LIST or SET value (1, 2 or 4); else 0 */
    uint16_t number; /* the %N this argument is (10 for the first) */
    uint32_t name;   /* offset of the argument's source expression */
    uint32_t values; /* offset of nvalues etw_wpp_value (ENUM, LIST, SET), else 0 */
    uint32_t nvalues;
} etw_wpp_arg;

typedef struct etw_wpp_value {
    uint32_t value; /* ENUM: the value; LIST, SET: the index or bit */
    uint32_t name;  /* offset of its name */
} etw_wpp_value;

typedef struct etw_wpp_msg {
    uint32_t size; /* of the whole blob */
    uint16_t number;
    uint16_t nargs;
    GUID guid;
    uint32_t line; /* the source line, 0 if the TMF does not say */
    uint32_t str[ETW_WPP_S_COUNT]; /* offsets of NUL-terminated UTF-8 strings; 0 = none */
    etw_wpp_arg args[];            /* nargs, in the order the producer wrote them */
} etw_wpp_msg;

/* 1 if the n bytes at p are a well-formed message blob: sizes and offsets inside it, every
 * string NUL-terminated inside it, known argument types. Blobs from disk go through this. */
int etw_wpp_msg_check(const void *p, size_t n);

/* The string at offset off of m ("" for 0). Only for checked blobs. */
static inline const char *etw_wpp_str_at(const etw_wpp_msg *m, uint32_t off)
{
    return off ? (const char *)m + off : "";
}

static inline const char *etw_wpp_msg_str(const etw_wpp_msg *m, enum etw_wpp_str which)
{
    return etw_wpp_str_at(m, m->str[which]);
}

/* Called for every message a TMF defines; takes ownership of msg (malloc'd). Returns 0 to
 * go on, non-zero to stop. */
typedef int (*etw_tmf_sink)(void *ctx, etw_wpp_msg *msg);

/* Parses TMF text (p, n). Messages go to sink as they are compiled (at the end of the text,
 * once every #enumv block is known). A line that cannot be understood is skipped: the first
 * such problem is described in err ("line N: why"), and *skipped counts them. Returns the
 * number of messages compiled, or -1 when the text is not a TMF at all (no GUID line; err
 * says why) or memory ran out. */
long etw_tmf_parse(const char *p, size_t n, etw_tmf_sink sink, void *ctx, char *err, size_t errlen,
                   unsigned *skipped);

/* The type of an Item name ("ItemULong", "ItemListLong(a,b)" ...); ETW_WPP_UNKNOWN if none.
 * *width gets the value size of ENUM, LIST and SET items. */
enum etw_wpp_item etw_wpp_item_parse(const char *name, size_t len, uint8_t *width);

#endif
