/* SPDX-License-Identifier: MIT */
/*
 * Regression runner of a fuzz target without libFuzzer (docs/fuzzing.md): runs
 * LLVMFuzzerTestOneInput once over every file given, or every file of every directory given
 * (sorted, not recursive). A crash or failed invariant aborts, which fails the ctest
 * fuzz_corpus_<name>. Exit 0 after the last input; 1 when a path cannot be read or a directory
 * holds no input (an empty corpus checks nothing).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf)
        abort();
    /* A copy of exactly len bytes, so that ASan sees a read past the input. */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    memcpy(exact, buf, len);
    free(buf);
    (void)LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *n_run)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t l = strlen(dir) + strlen(e->d_name) + 2;
        if (!names || !(names[n] = malloc(l)))
            abort();
        snprintf(names[n++], l, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            rc |= run_file(names[i]);
            (*n_run)++;
        }
        free(names[i]);
    }
    free(names);
    if (n == 0) {
        fprintf(stderr, "%s: no inputs\n", dir);
        return 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    size_t n_run = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            rc |= run_dir(argv[i], &n_run);
        } else {
            rc |= run_file(argv[i]);
            n_run++;
        }
    }
    printf("replayed %zu inputs\n", n_run);
    return rc;
}
