/* Replays files through a fuzz harness without libFuzzer, so that the seed
 * corpus and every crash found so far run in the normal `make check` with any
 * compiler. Without arguments it replays tests/fuzz/corpus/<harness>/ and
 * tests/fuzz/regressions/<harness>/ (PEL_FUZZ_DIR and PEL_FUZZ_NAME come from
 * the build); with arguments, the files or folders named. A broken invariant
 * aborts inside the harness, which fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    uint8_t *data;
    long length;

    if (file == NULL || fseek(file, 0, SEEK_END) != 0 || (length = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (file != NULL)
            fclose(file);
        return -1;
    }
    /* One spare byte so that an empty file is still a valid pointer. */
    data = malloc((size_t)length + 1);
    if (data == NULL || fread(data, 1, (size_t)length, file) != (size_t)length) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(data);
        fclose(file);
        return -1;
    }
    fclose(file);
    LLVMFuzzerTestOneInput(data, (size_t)length);
    free(data);
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of a folder in name order; returns the count,
 * or -1 on a read error. A missing folder counts 0. */
static int replay_path(const char *path)
{
    struct stat info;
    DIR *dir;
    struct dirent *entry;
    char **names = NULL;
    size_t count = 0, capacity = 0;
    int total = 0;

    if (stat(path, &info) != 0)
        return 0;
    if (!S_ISDIR(info.st_mode))
        return replay_file(path);
    dir = opendir(path);
    if (dir == NULL)
        return -1;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        if (count == capacity) {
            char **grown;
            capacity = capacity ? 2 * capacity : 64;
            grown = realloc(names, capacity * sizeof *names);
            if (grown == NULL) {
                closedir(dir);
                return -1;
            }
            names = grown;
        }
        names[count] = malloc(strlen(path) + strlen(entry->d_name) + 2);
        if (names[count] == NULL) {
            closedir(dir);
            return -1;
        }
        sprintf(names[count], "%s/%s", path, entry->d_name);
        count++;
    }
    closedir(dir);
    if (count > 0)
        qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        int n = total < 0 ? 0 : replay_path(names[i]);
        if (n < 0)
            total = -1;
        else if (total >= 0)
            total += n;
        free(names[i]);
    }
    free(names);
    return total;
}

int main(int argc, char **argv)
{
    int seeds = 0;

    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            int n = replay_path(argv[i]);
            if (n < 0)
                return 1;
            seeds += n;
        }
        printf("replayed %d inputs\n", seeds);
        return 0;
    }
#if defined(PEL_FUZZ_DIR) && defined(PEL_FUZZ_NAME)
    int regressions;
    seeds = replay_path(PEL_FUZZ_DIR "/corpus/" PEL_FUZZ_NAME);
    regressions = replay_path(PEL_FUZZ_DIR "/regressions/" PEL_FUZZ_NAME);
    if (seeds < 0 || regressions < 0)
        return 1;
    printf("%s: replayed %d seed inputs and %d regression inputs\n", PEL_FUZZ_NAME, seeds, regressions);
    /* A harness without seeds tests nothing: that is a failure, not a pass. */
    return seeds > 0 ? 0 : 1;
#else
    fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
    return 2;
#endif
}
