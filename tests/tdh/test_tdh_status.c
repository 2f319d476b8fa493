/* The decoder's status table (tdh/tdh_status.h): every code has a distinct name and a message,
 * and maps to the Win32 code the Windows-named functions return — checked here against what
 * those functions return for inputs that produce each code. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "tdh/sources/manifest.h"
#include "tdh/tdh_status.h"

static void table_is_complete(void **state)
{
    (void)state;
    for (int i = 0; i < ETW_TDH_STATUS_COUNT; i++) {
        assert_true(strncmp(etw_tdh_status_name((etw_tdh_status)i), "ETW_TDH_", 8) == 0);
        assert_true(strlen(etw_tdh_status_message((etw_tdh_status)i)) > 3);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(etw_tdh_status_name((etw_tdh_status)i), etw_tdh_status_name((etw_tdh_status)j));
    }
    assert_int_equal(etw_tdh_status_win32(ETW_TDH_OK), ERROR_SUCCESS);
    assert_int_equal(etw_tdh_status_win32(ETW_TDH_STATUS_COUNT), ERROR_INVALID_DATA);
}

/* The codes a loader produces reach the caller of the Windows-named function as the table says. */
static void loaders_map_through_the_table(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/tdh_status_%d.bin", ETWIRE_BINARY_DIR, (int)getpid());
    static const char notpe[] = "MZ but nothing else";
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(notpe, 1, sizeof notpe, f);
    fclose(f);
    assert_int_equal(etwire_tdh_load_binary(path), etw_tdh_status_win32(ETW_TDH_E_NOT_PE));
    assert_int_equal(etw_wevt_load_pe((const uint8_t *)notpe, sizeof notpe, 7), ETW_TDH_E_NOT_PE);
    assert_non_null(strstr(etwire_last_error_message(), path));
    unlink(path);
    assert_int_equal(etwire_tdh_load_manifest("/nonexistent/a.man"), etw_tdh_status_win32(ETW_TDH_E_NOFILE));
    WCHAR none[] = {'/', 'n', 'o', 'p', 'e', 0};
    assert_int_equal(TdhUnloadManifest(none), etw_tdh_status_win32(ETW_TDH_E_NOT_LOADED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_complete),
        cmocka_unit_test_teardown(loaders_map_through_the_table, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
