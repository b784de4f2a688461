/*
 * hotpe: the one argument scanner of the verbs (args.h).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"

void hp_args_init(hp_args *a, int argc, char **argv)
{
    a->verb = argv[0];
    a->argc = argc;
    a->argv = argv;
    a->i = 1;
    a->rest = false;
}

/* Edit distance of two short strings, capped: only "is it a typo" matters. */
static unsigned distance(const char *s, const char *t)
{
    enum { MAX = 32 };
    size_t n = strlen(s), m = strlen(t);
    if (n >= MAX || m >= MAX)
        return MAX;
    unsigned row[MAX + 1];
    for (size_t j = 0; j <= m; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= n; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= m; j++) {
            unsigned up = row[j];
            unsigned best = diag + (s[i - 1] != t[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

static int refuse(const hp_args *a, const char *fmt, const char *name, size_t len,
                  const char *near)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, fmt, (int)len, name);
    if (near && n > 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, "; did you mean %s?", near);
    hp_cli_usage(a->verb, msg);
    return HP_ARGS_BAD;
}

int hp_args_next(hp_args *a, const hp_args_opt *opts, const char **value)
{
    *value = NULL;
    if (a->i >= a->argc)
        return HP_ARGS_END;
    const char *arg = a->argv[a->i++];
    if (a->rest || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return HP_ARGS_OPERAND;
    }
    if (strcmp(arg, "--") == 0) {
        a->rest = true;
        return HP_ARGS_DASHDASH;
    }
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (int k = 0; opts[k].name; k++) {
        if (strlen(opts[k].name) != len || strncmp(opts[k].name, arg, len) != 0)
            continue;
        if (!opts[k].value) {
            if (eq)
                return refuse(a, "option '%.*s' takes no value", arg, len, NULL);
            return k;
        }
        if (eq)
            *value = eq + 1;
        else if (a->i < a->argc)
            *value = a->argv[a->i++];
        if (!*value || !**value)
            return refuse(a, "option '%.*s' needs a value", arg, len, NULL);
        return k;
    }
    char given[64];
    snprintf(given, sizeof given, "%.*s", (int)(len < 63 ? len : 63), arg);
    const char *near = NULL;
    unsigned best = 3;
    for (int k = 0; opts[k].name; k++) {
        unsigned d = distance(given, opts[k].name);
        if (d < best) {
            best = d;
            near = opts[k].name;
        }
    }
    return refuse(a, "unknown option '%.*s'", arg, len, near);
}
