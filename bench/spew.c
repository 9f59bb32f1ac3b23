/* Log-throughput probe for bench/run.py (`logs`).
 *
 * usage: spew LINES STAMP_FILE [IDLE_SECONDS]
 *
 * Writes LINES lines of exactly 100 bytes to stdout as fast as it can, with
 * write(2) in 64 KiB chunks (partial writes, EINTR and EAGAIN handled), then
 * records "<start_us> <end_us>" (CLOCK_REALTIME microseconds at entry and after
 * the last write returned) in STAMP_FILE and idles for IDLE_SECONDS (default
 * 600) so a manager does not restart it while its relay drains. Each line is
 * "%09d " (its 0-based sequence number) + 89 filler bytes + '\n', so the
 * harness can check for lost, duplicated or torn lines.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE 100
#define CHUNK (64 * 1024)

static long long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pfd = {.fd = 1, .events = POLLOUT};
                poll(&pfd, 1, 1000);
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LINES STAMP_FILE [IDLE_SECONDS]\n", argv[0]);
        return 2;
    }
    long long start = now_us();
    long lines = atol(argv[1]);
    int idle = argc > 3 ? atoi(argv[3]) : 600;
    static char chunk[CHUNK + LINE];
    static const char filler[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t fill = 0;
    for (long i = 0; i < lines; i++) {
        char *l = chunk + fill;
        snprintf(l, 11, "%09d ", (int)(i % 1000000000));
        memcpy(l + 10, filler + (i % 26), LINE - 11);
        l[LINE - 1] = '\n';
        fill += LINE;
        if (fill >= CHUNK) {
            if (write_all(chunk, CHUNK) < 0) return 1;
            fill -= CHUNK;
            memmove(chunk, chunk + CHUNK, fill);
        }
    }
    if (fill && write_all(chunk, fill) < 0) return 1;
    long long end = now_us();
    FILE *f = fopen(argv[2], "w");
    if (f) {
        fprintf(f, "%lld %lld\n", start, end);
        fclose(f);
    }
    for (int s = 0; s < idle; s++) sleep(1); /* bounded idle; the harness stops it */
    return 0;
}
