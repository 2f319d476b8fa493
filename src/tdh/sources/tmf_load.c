/* etwire_tdh_load_tmf: a TMF file is parsed now; a directory becomes a search directory for
 * <guid>.tmf, and its other *.tmf files (not named by a GUID) are parsed now. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <etwire/tdh.h>

#include "base/text.h"
#include "tdh/store/wpp_table.h"
#include "winapi/last_error.h"

static int named_by_guid(const char *name)
{
    char g[37];
    GUID guid;
    size_t n = strlen(name);
    if (n != 40 || strcmp(name + 36, ".tmf") != 0)
        return 0;
    memcpy(g, name, 36);
    g[36] = 0;
    return etw_guid_parse(g, &guid);
}

static int is_tmf(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && (strcmp(name + n - 4, ".tmf") == 0 || strcmp(name + n - 4, ".TMF") == 0);
}

ULONG etwire_tdh_load_tmf(const char *path)
{
    struct stat st;
    char why[600] = "";
    size_t count = 0;
    if (!path)
        return ERROR_INVALID_PARAMETER;
    if (stat(path, &st) != 0) {
        etw_set_last_win32(ERROR_FILE_NOT_FOUND, "");
        return ERROR_FILE_NOT_FOUND;
    }
    if (!S_ISDIR(st.st_mode)) {
        ULONG r = (ULONG)etw_wpp_load_file(path, &count, why, sizeof why);
        if (r != ERROR_SUCCESS)
            etw_set_last_win32(r, why);
        return r;
    }
    DIR *d = opendir(path);
    if (!d) {
        etw_set_last_win32(ERROR_FILE_NOT_FOUND, "");
        return ERROR_FILE_NOT_FOUND;
    }
    ULONG r = ERROR_SUCCESS;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!is_tmf(e->d_name) || named_by_guid(e->d_name))
            continue;
        char file[4200];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        ULONG fr = (ULONG)etw_wpp_load_file(file, &count, why, sizeof why);
        if (fr != ERROR_SUCCESS && r == ERROR_SUCCESS) {
            r = fr;
            etw_set_last_win32(fr, why);
        }
    }
    closedir(d);
    ULONG dr = (ULONG)etw_wpp_add_dir(path);
    return r != ERROR_SUCCESS ? r : dr;
}
