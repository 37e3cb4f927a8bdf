/* Self-restriction for watch, serve and explain, on by default (docs/sandbox.md; issue 12,
 * item 3). Best effort: each step that the kernel or the build does not support is skipped,
 * and one line says what was applied (GSMAPPER_DEBUG=1; a warning when a step failed). Never
 * fatal. Two stages, like xz's: gsm_sandbox_apply() at start-up, once the arguments are parsed
 * and the files to write are known; gsm_sandbox_strict() once listening and files are open.
 *
 *   1. PR_SET_NO_NEW_PRIVS.
 *   2. Landlock (ABI probed): file WRITES only beneath the allowed directories (the dump dir,
 *      the history file's and the output file's directories), EXECUTE only of the allowed files
 *      (our own binary for the flight recorder's explain, the ELF interpreter), READS only of
 *      the read list (docs/sandbox.md: /proc, the cgroup mounts, --root, the inputs, the
 *      written directories, the libraries and the few /etc files glibc and libcurl read after
 *      start-up; never /sys/kernel). A read the domain refuses outside that list is named once
 *      (gsm_sandbox_note_refused: debug level, or the trap log in trap mode). Before it, the
 *      /proc broker is forked (util/proc_broker.h): inside the domain the kernel hides other
 *      processes' exe, fd/, ns/ links and task/TID/syscall, and the readers ask the broker
 *      (readers/proc_priv.h). Only applied as root with CAP_SYS_PTRACE (otherwise a Landlock
 *      domain also hides other users' and non-dumpable processes' smaps); skipped with --exec
 *      (the handler would inherit it).
 *   3. seccomp (libseccomp): an allow-list of the system calls gsmapper makes; ptrace,
 *      process_vm_readv/writev, pidfd_getfd and execve/execveat are refused with EPERM
 *      (execve allowed only with --exec or --dump-dir), anything else not listed fails with
 *      ENOSYS. Trap mode (GSMAPPER_SANDBOX=trap) refuses the same calls through SIGSYS and
 *      names each one on stderr ("gsmapper: sandbox: refused system call NAME (NR)"), or
 *      appends it to the file GSMAPPER_SANDBOX_LOG names.
 *   strict: a second filter refuses bind and listen. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum gsm_sandbox_mode {
    GSM_SANDBOX_OFF,        /* --no-sandbox, GSMAPPER_SANDBOX=off */
    GSM_SANDBOX_ON,
    GSM_SANDBOX_TRAP,       /* GSMAPPER_SANDBOX=trap: refused calls named on stderr */
};

#define GSM_SANDBOX_MAX_PATHS 8

struct gsm_sandbox {
    enum gsm_sandbox_mode mode;
    bool allow_exec;                                 /* --exec or --dump-dir */
    bool allow_any_exec;                             /* --exec: any program (no Landlock) */
    const char *write_dirs[GSM_SANDBOX_MAX_PATHS];   /* read-write beneath */
    size_t n_write_dirs;
    const char *exec_files[GSM_SANDBOX_MAX_PATHS];   /* may be executed */
    size_t n_exec_files;
    const char *read_paths[GSM_SANDBOX_MAX_PATHS];   /* read (a file, or beneath a directory) */
    size_t n_read_paths;
};

/* ASan builds: "ASAN_OPTIONS=<ours>:symbolize=0" for a child started inside our Landlock domain
 * (it cannot execute llvm-symbolizer there; trying kills it with SIGPIPE). NULL otherwise. */
const char *gsm_sandbox_child_asan_env(void);

/* Mode from the environment (GSMAPPER_SANDBOX=off|trap|on), or ON. */
void gsm_sandbox_init(struct gsm_sandbox *sb);

/* Adds a directory (the dump dir; for a file, pass its directory) / an executable. */
void gsm_sandbox_allow_write(struct gsm_sandbox *sb, const char *dir);
void gsm_sandbox_allow_exec(struct gsm_sandbox *sb, const char *file);
/* Adds a file or a directory to read beyond the built-in read list (--root DIR, report's
 * inputs). NULL: nothing. "/", "/sys" and anything beneath /sys/kernel are never added. */
void gsm_sandbox_allow_read(struct gsm_sandbox *sb, const char *path);

/* Our own executable (the flight recorder runs it as explain). */
void gsm_sandbox_allow_self_exec(struct gsm_sandbox *sb);
/* The directory of a file (NULL: nothing), for writing beneath it. */
void gsm_sandbox_allow_write_parent(struct gsm_sandbox *sb, const char *file);

/* What gsm_sandbox_apply did (bits). */
#define GSM_SANDBOX_NNP 1
#define GSM_SANDBOX_LANDLOCK 2
#define GSM_SANDBOX_SECCOMP 4

/* Applies the steps to the calling process; call before starting threads (Landlock binds the
 * calling thread and those it creates later). Returns the GSM_SANDBOX_* bits applied. */
int gsm_sandbox_apply(const struct gsm_sandbox *sb, const char *who);

/* The strict stage, once listening and files are open: bind and listen refused (all threads).
 * Nothing when the sandbox is off or seccomp was not applied. 0 or -errno (logged). */
int gsm_sandbox_strict(const char *who);

/* A reader's open of path (relative to dirfd, or absolute) failed with EACCES. When our Landlock
 * domain restricts reads and the path is outside the read list, says so once per path (debug
 * level; in trap mode on the trap log too): the reader then reports the error as usual, but the
 * cause is named. Cheap when the sandbox is off (one flag). */
void gsm_sandbox_note_refused(int dirfd, const char *path);

/* watch and serve: writes only beneath dump_dir and the history file's directory (NULL:
 * none), execution of our own binary with a dump dir (the flight recorder's explain), of
 * anything with --exec (exec); reads of the read list and root_dir (--root; NULL: none).
 * off: --no-sandbox. */
int gsm_sandbox_daemon(const char *who, bool off, bool exec, const char *dump_dir, const char *history,
                       const char *root_dir);
