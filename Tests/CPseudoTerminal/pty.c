#define _GNU_SOURCE
#include "CPseudoTerminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

// Children start with default signal handling and no blocked signals, whatever the test
// runner's threads have set, so Ctrl-C reaches kbq as it would from a shell.
static void reset_signals(posix_spawnattr_t *attr, short extra_flags) {
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &all);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | extra_flags);
}

pid_t kbq_pty_spawn(const char *path, char *const argv[], char *const envp[],
                    unsigned short rows, unsigned short columns, int *master) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    char name[128];
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, name, sizeof name) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    struct winsize size = {.ws_row = rows, .ws_col = columns};
    ioctl(fd, TIOCSWINSZ, &size);

    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
    // POSIX_SPAWN_SETSID runs before the file actions, so opening the slave (without
    // O_NOCTTY) makes it the new session's controlling terminal: Ctrl-C then sends SIGINT.
    reset_signals(&attr, POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_addopen(&actions, 0, name, O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&actions, 0, 1);
    posix_spawn_file_actions_adddup2(&actions, 0, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        close(fd);
        errno = rc;
        return -1;
    }
    *master = fd;
    return pid;
}

long kbq_read_timeout(int fd, char *buffer, size_t capacity, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    if (n == 0) return -2;
    ssize_t got;
    do {
        got = read(fd, buffer, capacity);
    } while (got < 0 && errno == EINTR);
    // Linux reports the closed slave side of a pty as EIO: that is its end of file.
    if (got < 0 && errno == EIO) return 0;
    return (long)got;
}

static int decode_status(int raw) {
    if (WIFEXITED(raw)) return WEXITSTATUS(raw);
    if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
    return -1;
}

int kbq_wait_timeout(pid_t pid, int timeout_ms, int *status) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        int raw;
        pid_t r = waitpid(pid, &raw, WNOHANG);
        if (r == pid) {
            *status = decode_status(raw);
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            *status = -1;
            return 1;
        }
        if (now_ms() >= deadline) return 0;
        usleep(2000);
    }
}

typedef struct {
    char *data;
    size_t length, capacity;
} buffer;

static void append(buffer *b, const char *bytes, size_t n) {
    if (b->length + n + 1 > b->capacity) {
        size_t c = b->capacity ? b->capacity : 4096;
        while (c < b->length + n + 1) c *= 2;
        char *d = realloc(b->data, c);
        if (!d) return;
        b->data = d;
        b->capacity = c;
    }
    memcpy(b->data + b->length, bytes, n);
    b->length += n;
    b->data[b->length] = 0;
}

int kbq_run(const char *path, char *const argv[], char *const envp[], const char *directory,
            const char *input, size_t input_length, int timeout_ms, kbq_run_result *result) {
    memset(result, 0, sizeof *result);
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0) return -1;
    if (pipe2(out, O_CLOEXEC) != 0) { close(in[0]); close(in[1]); return -1; }
    if (pipe2(err, O_CLOEXEC) != 0) { close(in[0]); close(in[1]); close(out[0]); close(out[1]); return -1; }

    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
    reset_signals(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    if (directory) posix_spawn_file_actions_addchdir_np(&actions, directory);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(in[1]); close(out[0]); close(err[0]);
        errno = rc;
        return -1;
    }

    // The child may exit without reading its input: a write must not kill the test.
    signal(SIGPIPE, SIG_IGN);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    buffer o = {0}, e = {0};
    size_t written = 0;
    int in_fd = in[1];
    if (input_length == 0) { close(in_fd); in_fd = -1; }
    int out_open = 1, err_open = 1;
    long long deadline = now_ms() + timeout_ms;
    while (out_open || err_open) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            result->timed_out = 1;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p[3];
        int n = 0, oi = -1, ei = -1, ii = -1;
        if (out_open) { p[n] = (struct pollfd){.fd = out[0], .events = POLLIN}; oi = n++; }
        if (err_open) { p[n] = (struct pollfd){.fd = err[0], .events = POLLIN}; ei = n++; }
        if (in_fd >= 0) { p[n] = (struct pollfd){.fd = in_fd, .events = POLLOUT}; ii = n++; }
        int r = poll(p, n, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        char chunk[65536];
        if (oi >= 0 && p[oi].revents) {
            ssize_t got = read(out[0], chunk, sizeof chunk);
            if (got > 0) append(&o, chunk, (size_t)got); else if (got == 0 || errno != EINTR) out_open = 0;
        }
        if (ei >= 0 && p[ei].revents) {
            ssize_t got = read(err[0], chunk, sizeof chunk);
            if (got > 0) append(&e, chunk, (size_t)got); else if (got == 0 || errno != EINTR) err_open = 0;
        }
        if (ii >= 0 && p[ii].revents) {
            ssize_t put = write(in_fd, input + written, input_length - written);
            if (put > 0) written += (size_t)put;
            if ((put < 0 && errno != EAGAIN && errno != EINTR) || written == input_length) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0) close(in_fd);
    close(out[0]);
    close(err[0]);
    if (!kbq_wait_timeout(pid, result->timed_out ? 5000 : timeout_ms, &result->status)) {
        kill(pid, SIGKILL);
        kbq_wait_timeout(pid, 5000, &result->status);
        result->timed_out = 1;
    }
    if (!o.data) append(&o, "", 0);
    if (!e.data) append(&e, "", 0);
    result->output = o.data;
    result->output_length = o.length;
    result->error = e.data;
    result->error_length = e.length;
    return 0;
}

void kbq_run_result_free(kbq_run_result *result) {
    free(result->output);
    free(result->error);
    result->output = result->error = NULL;
}
