/* Test helper for run_samples.sh: the number of event records in an .etl, counted by walking
 * every buffer independently of the library's record parser (tests/support), so the sample
 * programs' event counts are checked against something they do not share code with. */
#include <stdio.h>

#include "collect.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: etl_record_count FILE.etl\n");
        return 2;
    }
    printf("%llu\n", (unsigned long long)test_count_records(argv[1]));
    return 0;
}
