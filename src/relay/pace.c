/* Pacing by buffer flush times (see pace.h). */
#include "relay/pace.h"

#include "base/bytes.h"

int relay_pace_delay_ms(relay_pace *p, const uint8_t *buf, const relay_input_clock *clk)
{
    uint64_t ts = etw_rd64(buf + 0x10); /* flush time, etw-format.md B.2 */
    if (p->rate <= 0 || ts == 0 || clk->frequency == 0)
        return 0;
    if (p->ts_first == 0) {
        p->ts_first = ts;
        clock_gettime(CLOCK_MONOTONIC, &p->wall_first);
        return 0;
    }
    if (ts <= p->ts_first)
        return 0;
    double due = (double)(ts - p->ts_first) / (double)clk->frequency / p->rate;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (double)(now.tv_sec - p->wall_first.tv_sec) + (now.tv_nsec - p->wall_first.tv_nsec) / 1e9;
    /* Capped so that a bogus flush time cannot stall the sender for ever (24 days). */
    double ms = (due - elapsed) * 1000;
    return ms <= 0 ? 0 : ms >= 2e9 ? 2000000000 : (int)ms;
}
