/* Reads the MOF subset that describes classic ETW events (see mof_model.h):
 *
 *   #pragma ...                                  (ignored)
 *   [Guid("{...}"), EventVersion(2), DisplayName("Task")]
 *   class Task_V2 : MyProvider { };
 *   [EventType{10, 11}, EventTypeName{"Start", "Stop"}]
 *   class Task_V2_TypeGroup1 : Task_V2 {
 *       [WmiDataId(1), format("x")] uint32 Flags;
 *       [WmiDataId(2), StringTermination("NullTerminated"), format("w")] string Name;
 *   };
 *
 * Other qualifiers, default values, methods and `instance of` blocks are read and ignored. The
 * text is untrusted: every read is bounded by its length, names are bounded, and the number of
 * classes and properties is capped (mof_model.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/text.h"
#include "tdh/sources/mof_model.h"

enum { TK_EOF, TK_IDENT, TK_NUM, TK_STR, TK_PUNCT, TK_BAD };

typedef struct lexer {
    const char *p, *end;
    unsigned line;
    int tk;
    char text[256]; /* identifier or string (truncated if longer) */
    long long num;
    char punct;
    char *err;
    size_t errcap;
    int failed;
} lexer;

static int fail(lexer *lx, const char *what)
{
    if (!lx->failed)
        snprintf(lx->err, lx->errcap, "line %u: %s", lx->line, what);
    lx->failed = 1;
    lx->tk = TK_BAD;
    return 0;
}

static void skip_space(lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == '\n') {
            lx->line++;
            lx->p++;
        } else if (isspace((unsigned char)c)) {
            lx->p++;
        } else if (c == '#' || (c == '/' && lx->end - lx->p > 1 && lx->p[1] == '/')) {
            while (lx->p < lx->end && *lx->p != '\n') /* #pragma, // comment */
                lx->p++;
        } else if (c == '/' && lx->end - lx->p > 1 && lx->p[1] == '*') {
            lx->p += 2;
            while (lx->p < lx->end && !(*lx->p == '*' && lx->end - lx->p > 1 && lx->p[1] == '/')) {
                lx->line += *lx->p == '\n';
                lx->p++;
            }
            lx->p = lx->end - lx->p > 1 ? lx->p + 2 : lx->end;
        } else {
            return;
        }
    }
}

/* One string literal (after the opening quote); escapes kept simple: \x means x. */
static void read_string(lexer *lx, size_t *len)
{
    while (lx->p < lx->end && *lx->p != '"') {
        char c = *lx->p++;
        if (c == '\\' && lx->p < lx->end)
            c = *lx->p++;
        if (c == '\n')
            lx->line++;
        if (*len + 1 < sizeof lx->text)
            lx->text[(*len)++] = c;
    }
    if (lx->p >= lx->end) {
        fail(lx, "unterminated string");
        return;
    }
    lx->p++;
}

static int next(lexer *lx)
{
    if (lx->failed)
        return TK_BAD;
    skip_space(lx);
    lx->text[0] = 0;
    if (lx->p >= lx->end)
        return lx->tk = TK_EOF;
    char c = *lx->p;
    if (isalpha((unsigned char)c) || c == '_') {
        size_t n = 0;
        while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_')) {
            if (n + 1 < sizeof lx->text)
                lx->text[n++] = *lx->p;
            lx->p++;
        }
        lx->text[n] = 0;
        return lx->tk = TK_IDENT;
    }
    if (isdigit((unsigned char)c) || (c == '-' && lx->end - lx->p > 1 && isdigit((unsigned char)lx->p[1]))) {
        char buf[32];
        size_t n = 0;
        while (lx->p < lx->end && n + 1 < sizeof buf && (isalnum((unsigned char)*lx->p) || *lx->p == '-' || *lx->p == '.'))
            buf[n++] = *lx->p++;
        buf[n] = 0;
        char *e;
        lx->num = strtoll(buf, &e, 0);
        return lx->tk = TK_NUM;
    }
    if (c == '"') {
        size_t len = 0;
        /* Adjacent literals concatenate, as in C. */
        do {
            lx->p++;
            read_string(lx, &len);
            skip_space(lx);
        } while (!lx->failed && lx->p < lx->end && *lx->p == '"');
        lx->text[len] = 0;
        return lx->failed ? TK_BAD : (lx->tk = TK_STR);
    }
    if (strchr("[](){},;:=", c)) {
        lx->p++;
        lx->punct = c;
        return lx->tk = TK_PUNCT;
    }
    fail(lx, "unexpected character");
    return TK_BAD;
}

static int is_punct(const lexer *lx, char c) { return lx->tk == TK_PUNCT && lx->punct == c; }

static int expect(lexer *lx, char c)
{
    if (!is_punct(lx, c)) {
        char msg[40];
        snprintf(msg, sizeof msg, "expected '%c'", c);
        return fail(lx, msg);
    }
    next(lx);
    return 1;
}

/* Where the qualifiers of the declaration being read go. */
typedef struct target {
    etw_mof_class *cls;
    etw_mof_prop *prop;
} target;

/* Bounded copy; names longer than the model's fields are cut (they only label output). */
static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Applies one value (index i of a list) of qualifier q. */
static int apply(lexer *lx, target *t, const char *q, unsigned i)
{
    int str = lx->tk == TK_STR, num = lx->tk == TK_NUM;
    etw_mof_class *c = t->cls;
    etw_mof_prop *p = t->prop;
    if (c && !strcasecmp(q, "Guid") && str) {
        if (!etw_guid_parse(lx->text, &c->guid))
            return fail(lx, "bad Guid qualifier");
        c->has_guid = 1;
    } else if (c && !strcasecmp(q, "EventVersion") && num) {
        c->version = (int)(lx->num & 0xff);
    } else if (c && !strcasecmp(q, "EventType") && num) {
        if (i >= ETW_MOF_MAX_TYPES)
            return fail(lx, "too many event types");
        c->types[i] = (uint16_t)(lx->num & 0xff);
        if (c->ntypes < i + 1)
            c->ntypes = i + 1;
    } else if (c && !strcasecmp(q, "EventTypeName") && str) {
        if (i < ETW_MOF_MAX_TYPES)
            copy_name(c->type_names[i], ETW_MOF_NAME, lx->text);
    } else if (c && !strcasecmp(q, "DisplayName") && str) {
        copy_name(c->display, sizeof c->display, lx->text);
    } else if (p && !strcasecmp(q, "WmiDataId") && num) {
        p->data_id = (int)lx->num;
    } else if (p && !strcasecmp(q, "Format") && str) {
        copy_name(p->format, sizeof p->format, lx->text);
    } else if (p && !strcasecmp(q, "StringTermination") && str) {
        copy_name(p->term, sizeof p->term, lx->text);
    } else if (p && !strcasecmp(q, "Extension") && str) {
        copy_name(p->ext, sizeof p->ext, lx->text);
    } else if (p && !strcasecmp(q, "WmiSizeIs") && str) {
        copy_name(p->size_is, sizeof p->size_is, lx->text);
    } else if (p && !strcasecmp(q, "MAX") && num) {
        p->count = lx->num > 0 && lx->num <= 0xffff ? (unsigned)lx->num : 0;
        if (!p->count)
            return fail(lx, "MAX out of range");
    }
    return 1;
}

static int read_value(lexer *lx, target *t, const char *q, unsigned i)
{
    if (lx->tk != TK_STR && lx->tk != TK_NUM && lx->tk != TK_IDENT)
        return fail(lx, "expected a qualifier value");
    if (!apply(lx, t, q, i))
        return 0;
    next(lx);
    return 1;
}

/* '[' qualifier {, qualifier} ']' with the current token on '['. */
static int read_qualifiers(lexer *lx, target *t)
{
    next(lx);
    for (;;) {
        if (lx->tk != TK_IDENT)
            return fail(lx, "expected a qualifier name");
        char q[64];
        copy_name(q, sizeof q, lx->text);
        next(lx);
        if (t->prop && (!strcasecmp(q, "Pointer") || !strcasecmp(q, "PointerType")))
            t->prop->pointer = 1;
        if (is_punct(lx, '(')) {
            next(lx);
            if (!read_value(lx, t, q, 0) || !expect(lx, ')'))
                return 0;
        } else if (is_punct(lx, '{')) {
            next(lx);
            for (unsigned i = 0; !is_punct(lx, '}'); i++) {
                if (i && !expect(lx, ','))
                    return 0;
                if (!read_value(lx, t, q, i))
                    return 0;
            }
            next(lx);
        }
        if (is_punct(lx, ':')) /* flavors: ToSubclass, Amended, ... */
            while (next(lx) == TK_IDENT)
                ;
        if (is_punct(lx, ']'))
            break;
        if (!expect(lx, ','))
            return 0;
    }
    next(lx);
    return 1;
}

/* Skips to the ';' that ends the current declaration, over nested braces. */
static int skip_declaration(lexer *lx)
{
    int depth = 0;
    while (lx->tk != TK_EOF && lx->tk != TK_BAD) {
        if (is_punct(lx, '{'))
            depth++;
        else if (is_punct(lx, '}'))
            depth--;
        else if (is_punct(lx, ';') && depth <= 0) {
            next(lx);
            return 1;
        }
        next(lx);
    }
    return fail(lx, "unterminated declaration");
}

static int read_member(lexer *lx, etw_mof_class *c)
{
    etw_mof_prop prop;
    memset(&prop, 0, sizeof prop);
    prop.line = lx->line;
    target t = {NULL, &prop};
    if (is_punct(lx, '[') && !read_qualifiers(lx, &t))
        return 0;
    if (lx->tk != TK_IDENT)
        return fail(lx, "expected a property type");
    copy_name(prop.type, sizeof prop.type, lx->text);
    if (next(lx) == TK_IDENT && !strcasecmp(lx->text, "ref"))
        next(lx);
    if (lx->tk != TK_IDENT)
        return fail(lx, "expected a property name");
    copy_name(prop.name, sizeof prop.name, lx->text);
    next(lx);
    if (is_punct(lx, '(')) /* a method: not part of the event layout */
        return skip_declaration(lx);
    if (is_punct(lx, '[')) {
        prop.array = 1;
        if (next(lx) == TK_NUM) {
            if (lx->num <= 0 || lx->num > 0xffff)
                return fail(lx, "array size out of range");
            prop.count = (unsigned)lx->num;
            next(lx);
        }
        if (!expect(lx, ']'))
            return 0;
    }
    if (is_punct(lx, '=')) /* default value */
        while (lx->tk != TK_EOF && lx->tk != TK_BAD && !is_punct(lx, ';'))
            next(lx);
    if (!expect(lx, ';'))
        return 0;
    if (c->nprops >= ETW_MOF_MAX_PROPS)
        return fail(lx, "too many properties in one class");
    if (!c->props && !(c->props = calloc(ETW_MOF_MAX_PROPS, sizeof *c->props)))
        return fail(lx, "out of memory");
    c->props[c->nprops++] = prop;
    return 1;
}

static int read_class(lexer *lx, etw_mof *m, etw_mof_class *c)
{
    if (next(lx) != TK_IDENT)
        return fail(lx, "expected a class name");
    copy_name(c->name, sizeof c->name, lx->text);
    next(lx);
    if (is_punct(lx, ':')) {
        if (next(lx) != TK_IDENT)
            return fail(lx, "expected a parent class name");
        copy_name(c->parent, sizeof c->parent, lx->text);
        next(lx);
    }
    if (!expect(lx, '{'))
        return 0;
    while (!is_punct(lx, '}')) {
        if (lx->tk == TK_EOF || lx->tk == TK_BAD)
            return fail(lx, "unterminated class");
        if (!read_member(lx, c))
            return 0;
    }
    next(lx);
    if (is_punct(lx, ';'))
        next(lx);
    if (m->n >= ETW_MOF_MAX_CLASSES)
        return fail(lx, "too many classes");
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        etw_mof_class *g = realloc(m->classes, cap * sizeof *g);
        if (!g)
            return fail(lx, "out of memory");
        m->classes = g;
        m->cap = cap;
    }
    m->classes[m->n++] = *c;
    c->props = NULL; /* now owned by m */
    return 1;
}

int etw_mof_parse(const uint8_t *text, size_t n, etw_mof *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (n > ETW_MOF_MAX_FILE) {
        snprintf(err, errcap, "file larger than %u bytes", ETW_MOF_MAX_FILE);
        return 0;
    }
    lexer lx = {.p = (const char *)text, .end = (const char *)text + n, .line = 1, .err = err, .errcap = errcap};
    if (n >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF)
        lx.p += 3; /* UTF-8 byte order mark */
    next(&lx);
    etw_mof_class c;
    while (lx.tk != TK_EOF && !lx.failed) {
        memset(&c, 0, sizeof c);
        c.version = -1;
        c.line = lx.line;
        target t = {&c, NULL};
        if (is_punct(&lx, '[') && !read_qualifiers(&lx, &t)) {
            /* nothing allocated yet */
        } else if (lx.tk == TK_IDENT && !strcasecmp(lx.text, "class")) {
            c.line = lx.line;
            read_class(&lx, out, &c);
        } else if (lx.tk == TK_IDENT && !strcasecmp(lx.text, "instance")) {
            skip_declaration(&lx);
        } else if (is_punct(&lx, ';')) {
            next(&lx);
        } else {
            fail(&lx, "expected 'class'");
        }
        free(c.props);
    }
    if (lx.failed) {
        etw_mof_free(out);
        return 0;
    }
    return 1;
}

void etw_mof_free(etw_mof *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->classes[i].props);
    free(m->classes);
    memset(m, 0, sizeof *m);
}
