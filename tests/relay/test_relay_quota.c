/* Per-source quotas (src/relay/quota.h): each connection's reserve, the shared pool, refusal
 * of a connection the quota has no room for, and the byte-rate budget shared by a source's
 * connections (other sources unaffected). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "harness.h"

#include "relay/quota.h"

static void test_reserve_and_pool(void **state)
{
    /* 10 MB per source, 4 MB reserve per connection: two connections fit, a third does not. */
    relay_quota *q = relay_quota_create(10000000, 0, 4000000);
    char err[256];
    relay_quota_src *a = relay_quota_join(q, "web", err, sizeof err);
    relay_quota_src *b = relay_quota_join(q, "web", err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(relay_quota_join(q, "web", err, sizeof err));
    assert_true(err[0] != 0);
    relay_quota_src *other = relay_quota_join(q, "db", err, sizeof err);
    assert_non_null(other); /* another source has its own quota */
    uint64_t ma = 0, mb = 0, mo = 0;
    assert_true(relay_quota_may_read(a, &ma, 3000000));  /* within its reserve */
    assert_true(relay_quota_may_read(a, &ma, 5000000));  /* 1 MB from the 2 MB pool */
    assert_true(relay_quota_may_read(b, &mb, 4000000));  /* b's reserve is b's */
    assert_false(relay_quota_may_read(a, &ma, 6100000)); /* pool exhausted */
    assert_true(relay_quota_may_read(other, &mo, 9000000));
    relay_quota_leave(q, b, &mb);
    relay_quota_src *c = relay_quota_join(q, "web", err, sizeof err); /* b's room is back */
    assert_non_null(c);
    uint64_t mc = 0;
    relay_quota_leave(q, c, &mc);
    relay_quota_leave(q, a, &ma);
    relay_quota_leave(q, other, &mo);
    relay_quota_destroy(q);
}

static void test_rate_shared_by_connections(void **state)
{
    relay_quota *q = relay_quota_create(0, 1000000, 0); /* 1 MB/s per source */
    char err[256];
    relay_quota_src *a = relay_quota_join(q, "web", err, sizeof err);
    relay_quota_src *b = relay_quota_join(q, "web", err, sizeof err);
    relay_quota_src *o = relay_quota_join(q, "db", err, sizeof err);
    assert_int_equal(relay_quota_rate_wait_ms(a), 0);
    relay_quota_rate_take(a, 2000000); /* two seconds' worth through one connection */
    int wa = relay_quota_rate_wait_ms(a), wb = relay_quota_rate_wait_ms(b);
    /* Waits come in steps of at most 100 ms; the other connection of the source waits too. */
    assert_int_equal(wa, 100);
    assert_int_equal(wb, 100);
    assert_int_equal(relay_quota_rate_wait_ms(o), 0);
    uint64_t m = 0;
    relay_quota_leave(q, a, &m);
    relay_quota_leave(q, b, &m);
    relay_quota_leave(q, o, &m);
    relay_quota_destroy(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_and_pool),
        cmocka_unit_test(test_rate_shared_by_connections),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
