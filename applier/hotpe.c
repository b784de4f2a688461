/*
 * hotpe: the command line. main() dispatches to one verb from the table below; each verb parses
 * its own options, and has --help.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "trust.h"
#include "hotpe/pe/file.h"

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include "version.h" /* HOTPE_COMMIT, written by the Makefile */

/* which of the three builds this is */
#if defined(_WIN64)
#define BUILD_ARCH "x64 Windows build"
#elif defined(_WIN32)
#define BUILD_ARCH "x86 Windows build"
#else
#define BUILD_ARCH "native build, scan/info/build only"
#endif

static const hp_verb verbs[] = {
    { "scan", hp_verb_scan, "scan IMAGE [--json] [--objects FILE... | --names FILE] [--require NAME]",
      "functions of a PE image and whether each can be hotpatched", hp_verb_scan_help },
    { "info", hp_verb_info, "info PATCH.dll [--json]",
      "a patch image's metadata: target, identity, sequence, hooks", hp_verb_info_help },
    { "build", hp_verb_build,
      "build --base BASE PATCH.dll [-o OUT.dll] [--map BASE.map] [--target-name NAME]",
      "SDK post-link step: resolve, check, stamp the metadata", hp_verb_build_help },
    { "check", hp_verb_check, "check TARGET PATCH.dll [--json] [--jobs N]",
      "dry run: everything apply checks, nothing written (Windows builds)", hp_verb_check_help },
    { "apply", hp_verb_apply, "apply TARGET PATCH.dll [--json] [--no-freeze] [--jobs N]",
      "apply a patch to running processes (Windows builds)", hp_verb_apply_help },
    { "list", hp_verb_list, "list TARGET [--json] [--jobs N]",
      "patches live in those processes (Windows builds)", hp_verb_list_help },
    { "revert", hp_verb_revert,
      "revert [TARGET] (PATCH | PATCH-ID | --all) [--unload] [--json] [--no-freeze] [--jobs N]",
      "revert live patches (Windows builds)", hp_verb_revert_help },
    { "run", hp_verb_run, "run [--patch PATCH.dll]... [--detach] [--no-freeze] -- PROGRAM [ARGS]",
      "start a program with patches applied before it runs (Windows builds)", hp_verb_run_help },
    { "install", hp_verb_install, "install PATCH.dll [--image PATH]... [--json]",
      "machine-wide: every process that has or later loads the target (Windows builds)",
      hp_verb_install_help },
    { "uninstall", hp_verb_uninstall, "uninstall PATCH [--json]",
      "take an installed patch back everywhere (Windows builds)", hp_verb_uninstall_help },
    { "status", hp_verb_status, "status [--json]",
      "every process with an installed patch's target: compliance (Windows builds)",
      hp_verb_status_help },
    { "trust", hp_verb_trust, "trust (add | remove) (CERT | SIGNED.dll | THUMBPRINT) | trust list",
      "the signers whose patches this machine accepts (Windows builds)", hp_verb_trust_help },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: hotpe VERB [ARGS]   (hotpe VERB --help for details)\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  hotpe %s\n      %s\n", verbs[i].synopsis, verbs[i].summary);
    fprintf(out, "\n  hotpe --version       print the version\n"
                 "\nexit codes: 0 done, 1 refused or failed, 2 bad usage, 3 partly done\n");
}

void hp_cli_message(char *buf, size_t cap, const char *object, hp_status s, const char *detail)
{
    if (detail)
        snprintf(buf, cap, "%s: %s (%s)", object, hp_status_str(s), detail);
    else
        snprintf(buf, cap, "%s: %s", object, hp_status_str(s));
}

int hp_cli_fail(const char *object, hp_status s, const char *detail)
{
    char line[1024];
    hp_cli_message(line, sizeof line, object, s, detail);
    fprintf(stderr, "hotpe: %s\n", line);
    return HP_EXIT_FAILED;
}

int hp_cli_usage(const char *verb, const char *message)
{
    fprintf(stderr, "hotpe: %s: %s (see hotpe %s --help)\n", verb, message, verb);
    return HP_EXIT_USAGE;
}

hp_status hp_cli_read_file(const char *path, uint8_t **data, size_t *size, const char **err_detail)
{
    int err;
    hp_status s = hp_file_read(path, data, size, &err);
    *err_detail = err ? strerror(err) : NULL;
    return s;
}

int hp_cli_file_args(const char *what, const char *flag, int argc, char **argv, const char **path,
                     bool *json, bool *flag_on)
{
    const hp_args_opt opts[] = { { "--json", false }, { flag, false }, { NULL, false } };
    char message[64];
    hp_args a;
    const char *v;
    int k;
    *path = NULL;
    *json = *flag_on = false;
    hp_args_init(&a, argc, argv);
    while ((k = hp_args_next(&a, opts, &v)) != HP_ARGS_END) {
        if (k == HP_ARGS_BAD)
            return HP_EXIT_USAGE;
        if (k == 0) {
            *json = true;
        } else if (k == 1) {
            *flag_on = true;
        } else if (k == HP_ARGS_OPERAND) {
            if (*path) {
                snprintf(message, sizeof message, "one %s only", what);
                return hp_cli_usage(a.verb, message);
            }
            *path = v;
        }
    }
    if (!*path) {
        snprintf(message, sizeof message, "%s missing", what);
        return hp_cli_usage(a.verb, message);
    }
    return 0;
}

int main(int argc, char **argv)
{
#ifdef _WIN32
    /* The same bytes on every build: no \r\n translation of the output. */
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
#endif
    if (argc < 2) {
        usage(stderr);
        return HP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hotpe %s (%s, %s)\n", HOTPE_VERSION, HOTPE_COMMIT, BUILD_ARCH);
        return HP_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return HP_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strcmp(argv[1], verbs[i].name) != 0)
            continue;
        for (int k = 2; k < argc; k++) {
            if (strcmp(argv[k], "--") == 0)
                break;
            if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
                fputs(verbs[i].help, stdout);
                return HP_EXIT_OK;
            }
        }
        return verbs[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "hotpe: unknown verb '%s' (see hotpe --help)\n", argv[1]);
    return HP_EXIT_USAGE;
}
