/* SPDX-License-Identifier: MIT */
/*
 * The commands of the `corral` client (CONTRACT "corral (client)" table): submit, run, get,
 * wait, list, cancel, workers, leader, schedule (add, list, get, rm, pause, resume, trigger,
 * fires). Each parses its own flags, talks to the API through cli/http.h and returns the process
 * exit status: 0 success, 1 an API or task error, 2 a usage error (a one-line "corral: ..." has
 * been printed to stderr).
 */
#ifndef CORRAL_CLI_COMMANDS_H
#define CORRAL_CLI_COMMANDS_H

#include <stdbool.h>

#include "cli/http.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

struct cli_ctx {
    struct cli_http *http; /* borrowed */
    bool json;             /* --json: print the API's JSON as received */
};

struct cli_command {
    const char *name;    /* "submit" */
    const char *args;    /* "[task flags] -- CMD [ARG...]" */
    const char *summary; /* one line for `corral --help` */
    /* argv[0] is the command name; argv[argc] is NULL. Returns the exit status. */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};

/* The command table, terminated by an entry with name NULL. */
extern const struct cli_command cli_commands[];

/* Find a command by name; NULL when unknown. */
const struct cli_command *cli_command_find(const char *name);

#endif
