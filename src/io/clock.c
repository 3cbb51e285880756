/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "io/clock.h"

int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fill(void *buf, size_t n)
{
    ssize_t r = getrandom(buf, n, 0);
    if (r == (ssize_t)n)
        return;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        r = read(fd, buf, n);
        close(fd);
        if (r == (ssize_t)n)
            return;
    }
    /* Last resort: time and pid; ids stay unique because creates collide instead. */
    uint64_t x = (uint64_t)clock_mono_ms() ^ ((uint64_t)getpid() << 32);
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (unsigned char)(x >> 56);
    }
}

uint32_t rand_u32(void)
{
    uint32_t v;
    fill(&v, sizeof v);
    return v;
}

uint64_t rand_u64(void)
{
    uint64_t v;
    fill(&v, sizeof v);
    return v;
}
