/*
 * hotpe: what the verbs of the command line share: the verb table's entry type, exit codes,
 * the one-line error report, reading an image file, and the verbs themselves.
 */
#ifndef HOTPE_CLI_H
#define HOTPE_CLI_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "hotpe/status.h"

#define HOTPE_VERSION "0.1.0"

/* Exit codes (README.md). */
enum {
    HP_EXIT_OK = 0,
    HP_EXIT_FAILED = 1,
    HP_EXIT_USAGE = 2,
    HP_EXIT_PARTIAL = 3,
    HP_EXIT_NONCOMPLIANT = 4, /* status: some process does not run an installed patch */
};

/* "s" for a count other than one: "1 site", "2 sites" */
#define HP_PLURAL_S(n) ((n) == 1 ? "" : "s")

/** One verb: argv[0] is the verb's name. Returns an HP_EXIT_* code. */
typedef int (*hp_verb_fn)(int argc, char **argv);

typedef struct hp_verb {
    const char *name;
    hp_verb_fn run;
    const char *synopsis;   /* its usage line in `hotpe --help` */
    const char *summary;    /* and what it does, the line below */
    const char *help;       /* the text of `hotpe VERB --help` */
} hp_verb;

/** `OBJECT: <message of s>[ (detail)]` into buf: a refusal's one line, without "hotpe: ". */
void hp_cli_message(char *buf, size_t cap, const char *object, hp_status s, const char *detail);
/** `hotpe: OBJECT: <message of s>[ (detail)]` on stderr, one line. Returns HP_EXIT_FAILED. */
int hp_cli_fail(const char *object, hp_status s, const char *detail);
/** `hotpe: VERB: <message>` and a hint to --help on stderr. Returns HP_EXIT_USAGE. */
int hp_cli_usage(const char *verb, const char *message);

/**
 * The whole file in a malloc'd buffer.
 * @return HP_OK, HP_E_IO (with *err_detail set to strerror text), HP_E_NOMEM.
 */
hp_status hp_cli_read_file(const char *path, uint8_t **data, size_t *size, const char **err_detail);

/**
 * Arguments of a verb that takes one file, an optional --json and at most one flag of its own
 * (scan, info); argv[0] is the verb.
 * @param what  in: the file's name in messages, e.g. "IMAGE"
 * @param flag  in: the verb's own flag, e.g. "--detail", or NULL; *flag_on says if it was given
 * @return 0 with *path, *json and *flag_on set, or the bad-usage exit code after printing why.
 */
int hp_cli_file_args(const char *what, const char *flag, int argc, char **argv, const char **path,
                     bool *json, bool *flag_on);

/* Verbs, one file each (hotpe.c holds the table). The live verbs (apply, check, list, revert,
 * run) need a Windows build; the native one parses their options and refuses them. */
int hp_verb_scan(int argc, char **argv);
extern const char hp_verb_scan_help[];
int hp_verb_info(int argc, char **argv);
extern const char hp_verb_info_help[];
int hp_verb_build(int argc, char **argv);
extern const char hp_verb_build_help[];
int hp_verb_apply(int argc, char **argv);
extern const char hp_verb_apply_help[];
int hp_verb_check(int argc, char **argv);
extern const char hp_verb_check_help[];
int hp_verb_list(int argc, char **argv);
extern const char hp_verb_list_help[];
int hp_verb_revert(int argc, char **argv);
extern const char hp_verb_revert_help[];
int hp_verb_run(int argc, char **argv);
extern const char hp_verb_run_help[];
int hp_verb_install(int argc, char **argv);
extern const char hp_verb_install_help[];
int hp_verb_uninstall(int argc, char **argv);
extern const char hp_verb_uninstall_help[];
int hp_verb_status(int argc, char **argv);
extern const char hp_verb_status_help[];

#endif
