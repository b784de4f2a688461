/*
 * hotpe: the TARGET of the live verbs (--pid PID, repeatable | --name IMAGE.exe |
 * --module NAME.dll) and their other options; the processes it selects, split into this hotpe's
 * and the WOW64 ones a 64-bit hotpe hands on to the 32-bit hotpe beside it; running a verb on
 * each of them, inside one JSON document with --json.
 */
#ifndef HOTPE_TARGET_H
#define HOTPE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "hotpe/status.h"
#include "json.h"

/* How many processes a live verb works on at once: --jobs, default and most. A process's
 * work mostly waits (wineserver, the shim's thread), so more than the cores pay. */
#define HP_TARGET_JOBS 8
#define HP_TARGET_JOBS_MAX 64
#define HP_TARGET_STR_(x) #x
#define HP_TARGET_STR(x) HP_TARGET_STR_(x)

/* Help text the live verbs share. */
#define HP_TARGET_HELP                                                                       \
    "TARGET is --pid PID (a Windows pid; under Wine the small numbers GetCurrentProcessId\n" \
    "returns; repeat it for several), --name IMAGE.exe (every process whose image has\n"   \
    "that name) or --module NAME.dll (every process that has loaded NAME.dll).\n"          \
    "With --json every document starts with \"schema\": 1 and each process has \"pid\" and\n" \
    "\"image\"; a process that refused is {\"pid\", \"image\", \"status\": \"refused\",\n"  \
    "\"error\", \"code\", \"message\"}, message being the line printed on stderr. Every\n"     \
    "key of every verb: docs/json.md.\n"                                                      \
    "--jobs N works on at most N processes at once (default " HP_TARGET_STR(HP_TARGET_JOBS)  \
    ", at most " HP_TARGET_STR(HP_TARGET_JOBS_MAX) "; 1: one\n"                              \
    "after the other); the output is the same: each process's lines and element in the\n"     \
    "order of the processes. A console's stderr shows how many are done meanwhile.\n"

#define HP_TARGET_NATIVE_HELP                                                                \
    "Needs the Windows build (build/x64/hotpe.exe or build/x86/hotpe.exe, also under Wine):\n" \
    "the native build/native/hotpe prints one line saying so and exits 1 (refused, not bad\n" \
    "usage: the same command works with the Windows build). A 64-bit hotpe hands 32-bit\n"  \
    "processes to the 32-bit hotpe beside it (x86\\hotpe.exe in its folder, else\n"          \
    "..\\x86\\hotpe.exe), passing on the arguments, output and exit code; a 32-bit hotpe\n"   \
    "refuses 64-bit processes.\n"

/** The options of apply, check, list and revert. Arrays are malloc'd: hp_target_opts_free. */
typedef struct hp_target_opts {
    const char *verb;
    uint32_t *pids;          /* --pid, repeatable */
    size_t npids;
    const char *name;        /* --name IMAGE.exe */
    const char *module;      /* --module NAME.dll */
    const char *patch;       /* apply, check */
    uint32_t patch_id;       /* revert; HP_WIRE_REVERT_ALL for --all */
    const char *patch_ref;   /* revert: a patch's name or file instead of an id */
    bool have_id;
    bool json;
    bool no_freeze;
    bool unload;             /* revert --unload */
    bool every;              /* list, or revert of a patch by name or file, with no TARGET:
                                every process with live patches (those that have
                                hotpe-shim.dll loaded, and some patch live in it) */
    unsigned jobs;           /* --jobs: processes worked on at once */
    /* the processes (hp_target_handed_whole): this hotpe's, and the WOW64 ones it hands on */
    uint32_t *native, *handed;
    size_t nnative, nhanded;
    int argc;                /* the verb's arguments, passed on by a hand-off */
    char **argv;
} hp_target_opts;

/**
 * Parse a live verb's arguments (argv[0] is the verb).
 * @return 0, or the exit code after printing why (bad usage; out of memory).
 */
int hp_target_parse(int argc, char **argv, hp_target_opts *o);
/** Free what parsing and selecting allocated. */
void hp_target_opts_free(hp_target_opts *o);

#ifndef _WIN32
/** A live verb of the native build: its options are parsed, then it refuses (exit 1). */
int hp_target_native(int argc, char **argv);
#else

/** A refusal kept rather than printed (hp_target.verdict). */
typedef struct hp_target_verdict {
    hp_status s;             /* HP_OK: none */
    char line[1024];         /* "pid N (IMAGE): ...: reason", as it would be printed */
    bool silent;             /* in: print nothing on success either (a check's "would apply") */
} hp_target_verdict;

/** An open target process. */
typedef struct hp_target {
    uint32_t pid;
    void *h;                 /* its HANDLE */
    struct hp_shimc_proc *sc; /* the shim client's view of it (shimclient.h) */
    char image[48];          /* its image's file name; "" when it cannot be opened */
    char object[64];         /* "pid N (image.exe)", "pid N" when it cannot be opened */
    hp_json *j;              /* the verb's --json document: refusals go into it too */
    hp_target_verdict *verdict; /* set: a refusal goes here, nothing printed (hotpe status) */
    hp_outbuf *out;          /* its lines (outbuf.h): NULL straight to stdout and stderr; else
                                kept, and written in the order of the processes */
} hp_target;

/** Begin a process's element of a live verb's JSON: the object, its "pid", "image" (null when
 * unknown) and "status"; the caller adds its keys and closes it. */
void hp_target_json_begin(const hp_target *t, hp_json *j, const char *status);

/** Open a process for every live verb. @return HP_OK, HP_E_PROC_OPEN, HP_E_LIVE_ARCH. */
hp_status hp_target_open(hp_target *t, uint32_t pid);
void hp_target_close(hp_target *t);

/** `hotpe: pid N (IMAGE)[: module[!function]]: reason[ (detail)]` on stderr, and with t->j the
 * process's element {"pid", "image", "status": "refused", "error", "code", "message"}.
 * Returns HP_EXIT_FAILED. */
int hp_target_refuse(const hp_target *t, const char *image, const char *function, hp_status s,
                     const char *detail);
/** The same with the line composed by the caller ("OBJECT: reason", no "hotpe: "). */
int hp_target_refuse_line(const hp_target *t, hp_status s, const char *line);

/**
 * Select the processes of the TARGET (o->native, o->handed); when every one is 32-bit and this
 * hotpe is 64-bit, hand the whole command on. @return true when handed on (*rc its exit code).
 */
bool hp_target_handed_whole(hp_target_opts *o, int *rc);
/** Select the processes of the TARGET (o->native, o->handed) alone, for a verb that runs inside
 * a document of its own (hp_target_each hands the 32-bit ones on, spliced). @return whether
 * any process was selected. */
bool hp_target_select(hp_target_opts *o);

/** A verb's work on one process: 0, HP_EXIT_FAILED, or HP_EXIT_PARTIAL (partly done). */
typedef int (*hp_target_fn)(const hp_target *t, const void *arg, hp_json *j);

/**
 * Run fn on each of this hotpe's processes, o->jobs at once (each on a thread of its own, its
 * lines and JSON element kept in t->out and written in the order of o->native as soon as it and
 * every one before it is done; a progress line on stderr when that is a console), then hand
 * the 32-bit ones on (their JSON spliced into j). fn must keep to its t and arg: several run
 * at once. @return the exit code for all of them (README.md).
 */
int hp_target_each(const hp_target_opts *o, hp_target_fn fn, const void *arg, hp_json *j);
/** hp_target_each inside the verbs' one JSON document with --json:
 * {["patch": patch,] "processes": [...]}. */
int hp_target_each_doc(const hp_target_opts *o, hp_target_fn fn, const void *arg,
                       const char *patch);

/**
 * Run the 32-bit hotpe: all, the whole command as given; else the same arguments with TARGET
 * replaced by --pid for each of o->handed. With j, its output is spliced into j.
 * @return its exit code, or HP_EXIT_FAILED after one refusal per process.
 */
int hp_target_handoff(const hp_target_opts *o, bool all, hp_json *j);

/** Append one argument to a CreateProcess command line, quoted as the C runtime splits it.
 * @return false when it does not fit in cap characters. */
bool hp_target_cmd_append(wchar_t *cmd, size_t cap, size_t *len, const wchar_t *arg);
/** The same for an argument of our own command line (ANSI code page). */
bool hp_target_cmd_append_a(wchar_t *cmd, size_t cap, size_t *len, const char *arg);
/** An inheritable copy of a standard handle (STD_*_HANDLE), for a child; NULL: none. */
void *hp_target_inheritable(uint32_t which);

#endif /* _WIN32 */
#endif
