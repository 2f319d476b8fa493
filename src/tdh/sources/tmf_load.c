/* TMF paths the user names (see tmf_load.h): a file is parsed now; a directory becomes a search
 * directory for <guid>.tmf, and its other *.tmf files (not named by a GUID) are parsed now. */
#include "tdh/sources/tmf_load.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/text.h"
#include "tdh/store/wpp_table.h"

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

etw_tdh_status etw_tmf_load_path(const char *path, char *why, size_t whylen)
{
    struct stat st;
    size_t count = 0;
    if (whylen)
        why[0] = 0;
    if (!path)
        return ETW_TDH_E_PARAM;
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "%s: no such file or directory", path);
        return ETW_TDH_E_NOFILE;
    }
    if (!S_ISDIR(st.st_mode))
        return etw_wpp_load_file(path, &count, why, whylen);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(why, whylen, "%s: cannot read the directory", path);
        return ETW_TDH_E_NOFILE;
    }
    etw_tdh_status r = ETW_TDH_OK;
    char one[600];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!is_tmf(e->d_name) || named_by_guid(e->d_name))
            continue;
        char file[4200];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        etw_tdh_status fr = etw_wpp_load_file(file, &count, one, sizeof one);
        if (fr != ETW_TDH_OK && r == ETW_TDH_OK) {
            r = fr;
            snprintf(why, whylen, "%s", one);
        }
    }
    closedir(d);
    etw_tdh_status dr = etw_wpp_add_dir(path);
    return r != ETW_TDH_OK ? r : dr;
}
