/* Crash-loop probe: appends CLOCK_REALTIME in microseconds to the file named by
 * argv[1] (or $CRASH_LOG, or the CRASH_LOG_PATH it was compiled with), in one O_APPEND write, then exits with code 1.
 * Built by bench/run.py with `cc -O2`. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const char *path = argc > 1 ? argv[1] : getenv("CRASH_LOG");
#ifdef CRASH_LOG_PATH
    if (!path) path = CRASH_LOG_PATH;
#endif
    if (!path) return 2;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld\n",
                     (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return 3;
    if (write(fd, buf, (size_t)n) != n) return 4;
    close(fd);
    return 1;
}
