/*
 * hotpe: the one argument scanner of the verbs. Options are named in every refusal, take their
 * value as `--opt VALUE` or `--opt=VALUE`, and "--" ends them.
 */
#ifndef HOTPE_ARGS_H
#define HOTPE_ARGS_H

#include <stdbool.h>

/** One option of a verb; a verb's table ends with { NULL }. */
typedef struct hp_args_opt {
    const char *name;   /* "--pid", "-o" */
    bool value;         /* takes a value */
} hp_args_opt;

typedef struct hp_args {
    const char *verb;
    int argc;
    char **argv;        /* argv[0] is the verb */
    int i;              /* the next argument */
    bool rest;          /* after "--": everything is an operand */
} hp_args;

enum {
    HP_ARGS_END = -1,       /* no more arguments */
    HP_ARGS_OPERAND = -2,   /* *value is an operand */
    HP_ARGS_DASHDASH = -3,  /* "--": a->i is the argument after it */
    HP_ARGS_BAD = -4,       /* the refusal is printed: return HP_EXIT_USAGE */
};

void hp_args_init(hp_args *a, int argc, char **argv);

/**
 * The next argument: an option's index in opts (with *value when it takes one), or HP_ARGS_*.
 * An unknown option, a missing value and a value given to a flag are refused by name, with the
 * nearest known option when one is close.
 */
int hp_args_next(hp_args *a, const hp_args_opt *opts, const char **value);

#endif
