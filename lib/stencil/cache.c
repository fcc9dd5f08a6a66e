/* Cache sizes for the automatic blocking: sysfs first (what the kernel knows
 * about this CPU), sysconf next, fixed defaults last (the project machine). */
#include "stencil/stencil_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t cache_bytes[4];
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* Reads one line of a sysfs file into buffer; returns 0 when unreadable. */
static int read_line(const char *path, char *buffer, size_t size)
{
    FILE *file = fopen(path, "r");
    int ok;
    if (file == NULL)
        return 0;
    ok = fgets(buffer, (int)size, file) != NULL;
    fclose(file);
    return ok;
}

static void read_sysfs(void)
{
    for (int index = 0; index < 8; index++) {
        char path[128], text[64];
        char *end;
        unsigned long level, size;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", index);
        if (!read_line(path, text, sizeof text))
            break;
        if (strncmp(text, "Instruction", 11) == 0)
            continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", index);
        if (!read_line(path, text, sizeof text))
            continue;
        level = strtoul(text, NULL, 10);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
        if (!read_line(path, text, sizeof text))
            continue;
        size = strtoul(text, &end, 10);
        if (*end == 'K')
            size <<= 10;
        else if (*end == 'M')
            size <<= 20;
        if (level >= 1 && level <= 3 && size > 0)
            cache_bytes[level] = size;
    }
}

static void detect(void)
{
    static const size_t fallback[4] = {0, 48 << 10, 512 << 10, 32 << 20};
    read_sysfs();
#ifdef _SC_LEVEL1_DCACHE_SIZE
    {
        const int names[4] = {0, _SC_LEVEL1_DCACHE_SIZE, _SC_LEVEL2_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE};
        for (int level = 1; level <= 3; level++) {
            long size = cache_bytes[level] ? 0 : sysconf(names[level]);
            if (size > 0)
                cache_bytes[level] = (size_t)size;
        }
    }
#endif
    for (int level = 1; level <= 3; level++)
        if (cache_bytes[level] == 0)
            cache_bytes[level] = fallback[level];
}

size_t pel__stencil_cache_size(int level)
{
    pthread_once(&cache_once, detect);
    return level >= 1 && level <= 3 ? cache_bytes[level] : 0;
}
