/* Plain main() for the fuzz targets (TESTING §4): runs LLVMFuzzerTestOneInput over every
 * regular file of each directory given on the command line, in name order, so every build
 * (gcc too, no libFuzzer) replays the corpus and the regress inputs as a meson test
 * (suite fuzz-smoke). A missing or empty directory is an error: a replay of nothing
 * proves nothing. A failed invariant aborts inside the target, which fails the test; the
 * name of the file being run is printed first (to stderr, unbuffered) to find it. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file being run, named by the SIGABRT handler when the target aborts (a failed
 * invariant, or a sanitizer report with abort_on_error=1). */
static const char *volatile current;

static void on_fatal(int sig)
{
    const char *name = current;
    static const char pre[] = "driver: fatal signal while running ";
    if (write(STDERR_FILENO, pre, sizeof pre - 1) < 0 || !name ||
        write(STDERR_FILENO, name, strlen(name)) < 0 || write(STDERR_FILENO, "\n", 1) < 0) {
        /* nothing more can be done in a signal handler */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = len;
    return 0;
}

/* Run the target over one directory; returns the number of files, or -1. */
static long run_dir(const char *dir, int verbose)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "driver: cannot open directory %s\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t need = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(need);
        if (!path)
            break;
        snprintf(path, need, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger) {
                free(path);
                break;
            }
            names = bigger;
        }
        names[n++] = path;
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "driver: no input files in %s\n", dir);
        free(names);
        return -1;
    }
    qsort(names, n, sizeof *names, by_name);
    long done = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *data = NULL;
        size_t size = 0;
        if (read_file(names[i], &data, &size) != 0) {
            fprintf(stderr, "driver: cannot read %s\n", names[i]);
            done = -1;
        } else {
            if (verbose)
                fprintf(stderr, "driver: %s (%zu bytes)\n", names[i], size);
            current = names[i];
            LLVMFuzzerTestOneInput(data, size);
            current = NULL;
            free(data);
            if (done >= 0)
                done++;
        }
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    int verbose = getenv("FUZZ_DRIVER_VERBOSE") != NULL;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR...  (runs the fuzz target over every file)\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, on_fatal);
    int status = 0;
    for (int i = 1; i < argc; i++) {
        long n = run_dir(argv[i], verbose);
        if (n < 0)
            status = 1;
        else
            fprintf(stderr, "driver: %ld inputs from %s\n", n, argv[i]);
    }
    return status;
}
