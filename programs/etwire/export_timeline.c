/* placeholder replaced below */
#include "export.h"
static void *tl_begin(export_context *cx) { (void)cx; return NULL; }
static void tl_event(void *s, const EVENT_RECORD *er, export_context *cx) { (void)s; (void)er; (void)cx; }
static int tl_end(void *s, export_context *cx) { (void)s; (void)cx; return 0; }
const export_format export_timeline_format = {"timeline", "Chrome trace-event JSON for Perfetto", tl_begin, tl_event, tl_end};
