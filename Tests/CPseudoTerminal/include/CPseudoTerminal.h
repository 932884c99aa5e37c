#ifndef KBQ_CPSEUDOTERMINAL_H
#define KBQ_CPSEUDOTERMINAL_H

// Child processes for the CLI tests: one under a new pseudo-terminal (the REPL), one on
// pipes (the script runner). Written in C because Glibc does not export posix_openpt,
// grantpt, unlockpt and ptsname_r to Swift, and because the pipe loop needs poll over three
// descriptors with a deadline so that a test can never hang.

#include <sys/types.h>
#include <stddef.h>

/// Starts `path` in a new session whose controlling terminal is a new pseudo-terminal of
/// `rows` x `columns` (standard input, output and error all on it). Returns the child's pid
/// and stores the master side in `*master` (close-on-exec), or returns -1 with errno set.
pid_t kbq_pty_spawn(const char *path, char *const argv[], char *const envp[],
                    unsigned short rows, unsigned short columns, int *master);

/// Reads what is available on `fd` within `timeout_ms`: the byte count, 0 at end of file
/// (or when the child side is closed), -2 on timeout, -1 on error.
long kbq_read_timeout(int fd, char *buffer, size_t capacity, int timeout_ms);

/// Waits up to `timeout_ms` for `pid` to end; returns 1 and the exit status (or 128 + the
/// signal) in `*status` when it did, 0 when it is still running.
int kbq_wait_timeout(pid_t pid, int timeout_ms, int *status);

/// The captured outcome of kbq_run.
typedef struct {
    char *output;          ///< standard output, malloc'ed, NUL-terminated
    size_t output_length;
    char *error;           ///< standard error, malloc'ed, NUL-terminated
    size_t error_length;
    int status;            ///< exit status, or 128 + signal
    int timed_out;         ///< 1 when the child was killed at the deadline
} kbq_run_result;

/// Runs `path` in `directory` (NULL: this process's) with pipes on standard input (fed
/// `input`, then closed), output and error, killing it after `timeout_ms`. Returns 0, or -1
/// with errno when it could not start.
int kbq_run(const char *path, char *const argv[], char *const envp[], const char *directory,
            const char *input, size_t input_length, int timeout_ms, kbq_run_result *result);

/// Frees the buffers of a result.
void kbq_run_result_free(kbq_run_result *result);

#endif
