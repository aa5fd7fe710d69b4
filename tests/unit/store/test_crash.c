/* Crash safety of persona_store_save (TESTING §6, suite `crash`): a child process saves a
 * growing store in a loop; the parent kills it with SIGKILL at seeded random moments and
 * then opens the snapshot, which must succeed and hold the last acknowledged generation
 * or the one in flight, never an error or a third state.
 *
 * usage: test_crash [ROUNDS] [in-place]
 * With `in-place` the child writes the snapshot over the file directly (no temporary file,
 * no rename): the canary this test must catch (meson: should_fail). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "persona.h"

static char dir[64], snap[128], scratch[128];

/* The canary's writer: the bytes of a proper save, written over the target in small
 * pieces, as a naive implementation would (slowly, so that kills land inside). */
static int save_in_place(const persona_store *s)
{
    if (persona_store_save(s, scratch) != PERSONA_OK)
        return -1;
    FILE *in = fopen(scratch, "rb");
    int fd = open(snap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!in || fd < 0)
        return -1;
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (write(fd, buf, n) != (ssize_t)n || usleep(100) != 0)
            return -1;
    fclose(in);
    close(fd);
    return 0;
}

/* Child: generation g = a store of g events; after each save, report g on the pipe. */
static void child(int report_fd, int in_place, uint64_t first)
{
    persona_store *s = NULL;
    if (persona_store_new(&s, NULL) != PERSONA_OK)
        _exit(3);
    char user[32];
    for (uint64_t g = 1;; g++) {
        persona_event e = PERSONA_EVENT_INIT;
        snprintf(user, sizeof user, "user-%llu", (unsigned long long)(g % 97));
        e.user = user;
        e.time_ms = 1700000000000 + (int64_t)g * 1000;
        e.type = g % 3 ? "view" : "buy";
        if (persona_store_ingest(NULL, s, &e, 1, NULL) != PERSONA_OK)
            _exit(3);
        if (g < first)
            continue;
        if ((in_place ? save_in_place(s) : persona_store_save(s, snap)) != 0)
            _exit(4);
        if (write(report_fd, &g, sizeof g) != (ssize_t)sizeof g)
            _exit(5);
    }
}

static uint64_t events_in_snapshot(int *rc)
{
    persona_store *s = NULL;
    *rc = persona_store_open(&s, snap);
    if (*rc != PERSONA_OK)
        return 0;
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&info, s);
    persona_store_free(s);
    return info.events;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int in_place = argc > 2 && strcmp(argv[2], "in-place") == 0;
    snprintf(dir, sizeof dir, "/tmp/persona-crash-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(snap, sizeof snap, "%s/store.snap", dir);
    snprintf(scratch, sizeof scratch, "%s/scratch.snap", dir);
    srand(20261124);
    int failures = 0;
    uint64_t acked = 0; /* the generation on disk before the round */
    for (int round = 0; round < rounds && failures < 5; round++) {
        int fds[2];
        if (pipe(fds) != 0) {
            perror("pipe");
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            close(fds[0]);
            child(fds[1], in_place, acked + 1);
        }
        close(fds[1]);
        /* Wait for its first save (on a loaded machine the child may not even have started
         * one within the delay, and a round that kills nothing on disk checks nothing: the
         * canary then passed by luck), let it save a few more times (~0.2-20 ms), then kill
         * it mid-flight. */
        uint64_t g;
        if (read(fds[0], &g, sizeof g) == (ssize_t)sizeof g)
            acked = g;
        struct timespec ts = { 0, 200000 + (long)(rand() % 20000) * 1000 };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        while (read(fds[0], &g, sizeof g) == (ssize_t)sizeof g)
            acked = g;
        close(fds[0]);
        if (WIFEXITED(status)) {
            fprintf(stderr, "round %d: the child failed on its own (exit %d)\n", round,
                    WEXITSTATUS(status));
            failures++;
            continue;
        }
        if (acked == 0)
            continue; /* killed before its first save: nothing on disk yet */
        int rc;
        uint64_t events = events_in_snapshot(&rc);
        if (rc != PERSONA_OK) {
            fprintf(stderr, "round %d: open after the kill: %s\n", round, persona_errmsg());
            failures++;
        } else if (events != acked && events != acked + 1) {
            fprintf(stderr, "round %d: snapshot holds %llu events; acknowledged %llu\n", round,
                    (unsigned long long)events, (unsigned long long)acked);
            failures++;
        } else {
            acked = events; /* the in-flight save may have landed */
        }
    }
    /* Temporary files of killed saves are the only leftovers; remove everything. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    fprintf(stderr, "test_crash (%s): %d rounds, last generation %llu, %d failures\n",
            in_place ? "in-place canary" : "atomic", rounds, (unsigned long long)acked, failures);
    return failures ? 1 : 0;
}
