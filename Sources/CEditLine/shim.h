#ifndef KBQ_CEDITLINE_SHIM_H
#define KBQ_CEDITLINE_SHIM_H

// Typed wrappers over libedit's variadic calls (el_set, el_get, history), which Swift
// cannot call, and over the few libc facilities whose Swift import is unusable or flagged
// as not concurrency-safe in Swift 6 (stdin/stdout/stderr, sigaction, ioctl, langinfo).
//
// In a dynamically linked kbq (the debug build, `swift build`), libedit is opened with
// dlopen when the REPL starts, not linked: loading it and the libraries it needs (libtinfo,
// libbsd, libmd) costs every start about 0.6 million instructions (measured with callgrind:
// 2.2 M for an empty static Swift program, 2.8 M with libedit linked), and the script runner
// never edits a line. histedit.h still gives the types and constants, so building needs
// libedit-dev as before.
//
// The release kbq (`make release`) is one static executable, because a static program
// starts about 1.5 ms sooner (no dynamic loader, no relocations). dlopen is not usable there
// (a static glibc program can only load libraries of the exact glibc it was linked with), so
// that build defines KBQ_EDITLINE_STATIC and links libedit.a, libtinfo.a, libbsd.a and
// libmd.a (Debian's libedit-dev and its dependencies ship them): the same table is filled
// with the linked functions. Static linking costs nothing at start-up: no code runs until
// the REPL calls it.

#include <histedit.h>
#if !defined(KBQ_EDITLINE_STATIC)
#include <dlfcn.h>
#endif
#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

typedef char *(*kbq_prompt_function)(EditLine *);
typedef unsigned char (*kbq_editor_function)(EditLine *, int);
typedef void (*kbq_signal_handler)(int);

// MARK: - Standard streams (Swift 6 rejects the `stdin`/`stdout`/`stderr` globals).

static inline FILE *kbq_stdin(void) { return stdin; }
static inline FILE *kbq_stdout(void) { return stdout; }
static inline FILE *kbq_stderr(void) { return stderr; }

// MARK: - Opening libedit

/// libedit's entry points, as found in the library. Every wrapper below takes this table, so
/// there is no global state.
typedef struct kbq_editline {
    EditLine *(*el_init)(const char *, FILE *, FILE *, FILE *);
    void (*el_end)(EditLine *);
    void (*el_reset)(EditLine *);
    const char *(*el_gets)(EditLine *, int *);
    int (*el_set)(EditLine *, int, ...);
    int (*el_get)(EditLine *, int, ...);
    int (*el_source)(EditLine *, const char *);
    const LineInfo *(*el_line)(EditLine *);
    int (*el_insertstr)(EditLine *, const char *);
    void (*el_deletestr)(EditLine *, int);
    void (*el_resize)(EditLine *);
    History *(*history_init)(void);
    void (*history_end)(History *);
    int (*history)(History *, HistEvent *, int, ...);
} kbq_editline;

#if defined(KBQ_EDITLINE_STATIC)

/// Fills `api` with the linked libedit. Always succeeds; the return value matches the
/// dlopen version's.
static inline int kbq_editline_open(kbq_editline *api) {
    api->el_init = el_init;
    api->el_end = el_end;
    api->el_reset = el_reset;
    api->el_gets = el_gets;
    api->el_set = el_set;
    api->el_get = el_get;
    api->el_source = el_source;
    api->el_line = el_line;
    api->el_insertstr = el_insertstr;
    api->el_deletestr = el_deletestr;
    api->el_resize = el_resize;
    api->history_init = history_init;
    api->history_end = history_end;
    api->history = history;
    return 0;
}

#else

/// libedit opened with `flags` (RTLD_NOLOAD: only if it is loaded already), or NULL.
static inline void *kbq_editline_library(int flags) {
    static const char *const names[] = {"libedit.so.2", "libedit.so", "libedit.3.dylib", "libedit.dylib"};
    void *library = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && library == NULL; i++) {
        library = dlopen(names[i], flags);
    }
    return library;
}

/// Opens libedit and fills `api`. Returns 0, or -1 when the library or one of its functions
/// is missing (the REPL then reads plain lines). The library stays loaded.
static inline int kbq_editline_open(kbq_editline *api) {
    void *library = kbq_editline_library(RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return -1;
    // POSIX's way to turn dlsym's object pointer into a function pointer.
#define KBQ_FIND(name) if ((*(void **)&api->name = dlsym(library, #name)) == NULL) return -1
    KBQ_FIND(el_init);
    KBQ_FIND(el_end);
    KBQ_FIND(el_reset);
    KBQ_FIND(el_gets);
    KBQ_FIND(el_set);
    KBQ_FIND(el_get);
    KBQ_FIND(el_source);
    KBQ_FIND(el_line);
    KBQ_FIND(el_insertstr);
    KBQ_FIND(el_deletestr);
    KBQ_FIND(el_resize);
    KBQ_FIND(history_init);
    KBQ_FIND(history_end);
    KBQ_FIND(history);
#undef KBQ_FIND
    return 0;
}

#endif

// MARK: - The editor

static inline EditLine *kbq_el_init(const kbq_editline *api, const char *program, FILE *in, FILE *out, FILE *err) {
    return api->el_init(program, in, out, err);
}

static inline void kbq_el_end(const kbq_editline *api, EditLine *el) { api->el_end(el); }

// Empties the line buffer and restores the terminal.
static inline void kbq_el_reset(const kbq_editline *api, EditLine *el) { api->el_reset(el); }

static inline const char *kbq_el_gets(const kbq_editline *api, EditLine *el, int *count) {
    return api->el_gets(el, count);
}

// Reads $EDITRC or ~/.editrc when `file` is NULL.
static inline int kbq_el_source(const kbq_editline *api, EditLine *el, const char *file) {
    return api->el_source(el, file);
}

static inline const LineInfo *kbq_el_line(const kbq_editline *api, EditLine *el) { return api->el_line(el); }

static inline int kbq_el_insertstr(const kbq_editline *api, EditLine *el, const char *text) {
    return api->el_insertstr(el, text);
}

static inline void kbq_el_deletestr(const kbq_editline *api, EditLine *el, int count) {
    api->el_deletestr(el, count);
}

// Reads the terminal's size again and sizes libedit's screen buffers to it. Never from a
// signal handler: it frees and allocates.
static inline void kbq_el_resize(const kbq_editline *api, EditLine *el) { api->el_resize(el); }

// MARK: - el_set / el_get

typedef int (*kbq_read_function)(EditLine *, wchar_t *);

// The function libedit reads each character with (returns 1, 0 at the end, -1 on error).
static inline int kbq_el_set_read_function(const kbq_editline *api, EditLine *el, kbq_read_function read) {
    return api->el_set(el, EL_GETCFN, read);
}

// Clears libedit's idea of the screen and draws the prompt and the line again.
static inline int kbq_el_refresh(const kbq_editline *api, EditLine *el) { return api->el_set(el, EL_REFRESH); }

// 1: the terminal in libedit's editing mode; 0: back in the mode it found.
static inline int kbq_el_prepare_terminal(const kbq_editline *api, EditLine *el, int editing) {
    return api->el_set(el, EL_PREP_TERM, editing);
}

static inline int kbq_el_set_prompt(const kbq_editline *api, EditLine *el, kbq_prompt_function prompt) {
    return api->el_set(el, EL_PROMPT, prompt);
}

static inline int kbq_el_set_editor(const kbq_editline *api, EditLine *el, const char *mode) {
    return api->el_set(el, EL_EDITOR, mode);
}

// `history` itself is variadic; C can still pass its address where Swift cannot.
static inline int kbq_el_set_history(const kbq_editline *api, EditLine *el, History *h) {
    return api->el_set(el, EL_HIST, api->history, h);
}

static inline int kbq_el_set_client_data(const kbq_editline *api, EditLine *el, void *data) {
    return api->el_set(el, EL_CLIENTDATA, data);
}

// libedit's callbacks are given only the EditLine, and the function table is in the client
// data they look for: so this finds el_get again in the loaded library.
static inline void *kbq_el_get_client_data(EditLine *el) {
#if defined(KBQ_EDITLINE_STATIC)
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) data = NULL;
    return data;
#else
    void *library = kbq_editline_library(RTLD_NOW | RTLD_NOLOAD);
    if (library == NULL) return NULL;
    int (*get)(EditLine *, int, ...);
    *(void **)&get = dlsym(library, "el_get");
    void *data = NULL;
    if (get == NULL || get(el, EL_CLIENTDATA, &data) != 0) data = NULL;
    dlclose(library);  // balances the RTLD_NOLOAD open; the library stays loaded
    return data;
#endif
}

// Whether libedit installs its own handlers while reading. kbq keeps this off: libedit's
// handlers run its screen code inside the signal handler (a resize frees and allocates
// there), which is not safe; kbq's handlers only set flags (see Interrupts.swift).
static inline int kbq_el_set_signal_handling(const kbq_editline *api, EditLine *el, int on) {
    return api->el_set(el, EL_SIGNAL, on);
}

static inline int kbq_el_add_function(const kbq_editline *api, EditLine *el, const char *name, const char *help,
                                      kbq_editor_function function) {
    return api->el_set(el, EL_ADDFN, name, help, function);
}

static inline int kbq_el_bind(const kbq_editline *api, EditLine *el, const char *keys, const char *function) {
    return api->el_set(el, EL_BIND, keys, function, (const char *)NULL);
}

// MARK: - history

static inline History *kbq_history_init(const kbq_editline *api) { return api->history_init(); }

static inline void kbq_history_end(const kbq_editline *api, History *h) { api->history_end(h); }

static inline int kbq_history_set_size(const kbq_editline *api, History *h, int size) {
    HistEvent ev;
    return api->history(h, &ev, H_SETSIZE, size);
}

static inline int kbq_history_set_unique(const kbq_editline *api, History *h, int unique) {
    HistEvent ev;
    return api->history(h, &ev, H_SETUNIQUE, unique);
}

static inline int kbq_history_enter(const kbq_editline *api, History *h, const char *entry) {
    HistEvent ev;
    return api->history(h, &ev, H_ENTER, entry);
}

static inline int kbq_history_load(const kbq_editline *api, History *h, const char *path) {
    HistEvent ev;
    return api->history(h, &ev, H_LOAD, path);
}

static inline int kbq_history_save(const kbq_editline *api, History *h, const char *path) {
    HistEvent ev;
    return api->history(h, &ev, H_SAVE, path);
}

// MARK: - libc

// sigaction's handler is a union member Swift imports awkwardly. `restart` chooses
// SA_RESTART: off for SIGINT, so a blocked read returns EINTR and the REPL regains control.
static inline int kbq_set_signal_handler(int signal, kbq_signal_handler handler, int restart) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = restart ? SA_RESTART : 0;
    return sigaction(signal, &action, NULL);
}

// The terminal's mode as kbq found it, put back when Ctrl-Z stops kbq while libedit has the
// terminal in its editing mode (what libedit's own handlers did). Written once, before the
// handler is installed; read only by the handler.
static inline struct termios *kbq_found_terminal_mode(void) {
    static struct termios mode;
    return &mode;
}

// Ctrl-Z: the terminal back in its line mode, then stop as the default action would; on
// `fg` the handler is set again (and SIGCONT tells the line reader to take the terminal back).
// Only async-signal-safe calls.
static inline void kbq_on_terminal_stop(int signal) {
    int saved = errno;
    (void)tcsetattr(STDIN_FILENO, TCSADRAIN, kbq_found_terminal_mode());
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    (void)sigaction(signal, &action, NULL);
    (void)raise(signal);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    (void)sigprocmask(SIG_UNBLOCK, &set, NULL);  // stops here until continued
    action.sa_handler = kbq_on_terminal_stop;
    (void)sigaction(signal, &action, NULL);
    errno = saved;
}

// Records the terminal's mode and handles Ctrl-Z (SIGTSTP) as above. Returns -1 when
// standard input is not a terminal.
static inline int kbq_handle_terminal_stop(void) {
    if (tcgetattr(STDIN_FILENO, kbq_found_terminal_mode()) != 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = kbq_on_terminal_stop;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGTSTP, &action, NULL);
}

// Whether a byte can be read from `fd` within `milliseconds` (0: only if one is there now).
static inline int kbq_input_waiting(int fd, int milliseconds) {
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int n = poll(&p, 1, milliseconds);
    return n > 0 && (p.revents & POLLIN) != 0;
}

// Starts `/bin/sh -c command` (a pager) reading from a new pipe; returns its pid and puts
// the pipe's writing end in `input`, or returns -1.
static inline pid_t kbq_spawn_reader(const char *command, int *input) {
    extern char **environ;
    int fds[2];
    if (pipe(fds) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    char *const argv[] = {"sh", "-c", (char *)command, NULL};
    pid_t pid = -1;
    int failed = posix_spawn(&pid, "/bin/sh", &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[0]);
    if (failed != 0) {
        close(fds[1]);
        return -1;
    }
    *input = fds[1];
    return pid;
}

// Waits for `pid` to end, through interruptions; its exit status, or -1.
static inline int kbq_wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// SIGPIPE ignored (1) or back to its default (0): a pager that quits early must not end kbq.
static inline void kbq_ignore_broken_pipes(int ignore) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = ignore ? SIG_IGN : SIG_DFL;
    sigemptyset(&action.sa_mask);
    (void)sigaction(SIGPIPE, &action, NULL);
}

// Drops output written to the terminal `fd` but not yet shown (Ctrl-C while printing).
static inline void kbq_discard_terminal_output(int fd) { (void)tcflush(fd, TCOFLUSH); }

// The terminal's size, or 0 when `fd` is not a terminal.
static inline int kbq_terminal_columns(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_col;
}

static inline int kbq_terminal_rows(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_row;
}

static inline const char *kbq_locale_codeset(void) { return nl_langinfo(CODESET); }

static inline int kbq_errno(void) { return errno; }

#endif

// SIGBUS: a file kbq has mapped into memory (a compiled KB, a large bare JSON file being
// loaded) was truncated by another process, and kbq touched a page past its new end. The
// kernel gives no way to go on reading, so kbq says what happened and exits 2 (a KB error)
// instead of dying with a core dump and no message. Only async-signal-safe calls.
static inline void kbq_on_bus_error(int signal) {
    (void)signal;
    static const char message[] = "kbq: error: a file kbq had mapped into memory (a compiled KB, or a large JSON file "
        "being loaded) was truncated or replaced in place while kbq read it; run again once it is whole "
        "(kbq build writes a new file and renames it, which is safe)\n";
    ssize_t written = write(2, message, sizeof message - 1);
    (void)written;
    _exit(2);
}

static inline int kbq_catch_bus_errors(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = kbq_on_bus_error;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGBUS, &action, NULL);
}
