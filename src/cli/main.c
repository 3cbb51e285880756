/* SPDX-License-Identifier: MIT */
/*
 * corral: the command-line client of the REST API (CONTRACT "corral (client)"). Parses the
 * global flags (--server/CORRAL_SERVER, --token/CORRAL_TOKEN, --json), sets up the HTTP layer
 * and hands the rest of argv to the command. Exit status: 0 ok, 1 API or task error, 2 usage.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corral/opts.h"
#include "cli/commands.h"
#include "cli/http.h"

extern char **environ;

struct global_flags {
    const char *server;
    const char *token;
    const char *cacert;
    bool json;
};

static const struct corral_opt global_opts[] = {
    {"server", "CORRAL_SERVER", CORRAL_OPT_STRING, "URL[,URL...]", "http://127.0.0.1:7070",
     "replica URLs; the next is tried when one is unreachable or answers 503",
     offsetof(struct global_flags, server), 0, 0, NULL},
    {"token", "CORRAL_TOKEN", CORRAL_OPT_STRING, "T", NULL, "bearer token for the API",
     offsetof(struct global_flags, token), 0, 0, NULL},
    {"cacert", "CORRAL_CACERT", CORRAL_OPT_STRING, "FILE", NULL,
     "CA certificates (PEM) that an https replica's certificate must chain to",
     offsetof(struct global_flags, cacert), 0, 0, NULL},
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the API's JSON as received",
     offsetof(struct global_flags, json), 0, 0, NULL},
};
#define N_GLOBAL_OPTS (sizeof(global_opts) / sizeof(global_opts[0]))

static void print_usage(void)
{
    printf("usage: corral [global flags] COMMAND [flags] [ARGS]\n\n"
           "Command-line client of the corral task scheduler.\n\ncommands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++) {
        char left[64];
        snprintf(left, sizeof(left), "%s %s", c->name, c->args);
        printf("  %-38s %s\n", left, c->summary);
    }
    printf("\nglobal flags:\n");
    char *help = corral_opts_help(global_opts, N_GLOBAL_OPTS);
    if (help)
        fputs(help, stdout);
    free(help);
    printf("\nRun 'corral COMMAND --help' for the flags of a command.\n"
           "Exit status: 0 ok, 1 an API error or a failed task, 2 a usage error.\n");
}

int main(int argc, char **argv)
{
    struct global_flags g = {0};
    struct corral_opts_result res = {0};
    struct corral_error err = {0};
    if (corral_opts_parse(global_opts, N_GLOBAL_OPTS, argc, argv, 1, environ, &g, &res, &err) !=
        0) {
        if (err.field[0])
            fprintf(stderr, "corral: %s: %s\n", err.field, err.msg);
        else
            fprintf(stderr, "corral: %s\n", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (res.help) {
        print_usage();
        return CLI_EXIT_OK;
    }
    if (res.version) {
        printf("corral %s\n", CORRAL_VERSION);
        return CLI_EXIT_OK;
    }
    int next = res.next;
    if (next < argc && strcmp(argv[next], "--") == 0)
        next++;
    if (next >= argc) {
        fprintf(stderr, "corral: missing command (see corral --help)\n");
        return CLI_EXIT_USAGE;
    }

    const char *name = argv[next];
    if (strcmp(name, "help") == 0) {
        if (next + 1 >= argc) {
            print_usage();
            return CLI_EXIT_OK;
        }
        /* "corral help submit" is "corral submit --help". */
        const struct cli_command *c = cli_command_find(argv[next + 1]);
        if (!c) {
            fprintf(stderr, "corral: unknown command '%s' (see corral --help)\n", argv[next + 1]);
            return CLI_EXIT_USAGE;
        }
        char help_flag[] = "--help";
        char *help_argv[] = {argv[next + 1], help_flag, NULL};
        struct cli_ctx ctx = {.http = NULL, .json = false};
        return c->run(&ctx, 2, help_argv);
    }
    const struct cli_command *cmd = cli_command_find(name);
    if (!cmd) {
        fprintf(stderr, "corral: unknown command '%s' (see corral --help)\n", name);
        return CLI_EXIT_USAGE;
    }

    struct cli_http http;
    if (http_init(&http, g.server, g.token, &err) != 0) {
        if (err.field[0])
            fprintf(stderr, "corral: %s: %s\n", err.field, err.msg);
        else
            fprintf(stderr, "corral: %s\n", err.msg);
        http_cleanup(&http);
        return err.code == CORRAL_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    if (g.cacert && access(g.cacert, R_OK) != 0) {
        fprintf(stderr, "corral: --cacert: cannot read %s: %s\n", g.cacert, strerror(errno));
        http_cleanup(&http);
        return CLI_EXIT_USAGE;
    }
    http.cacert = g.cacert;
    struct cli_ctx ctx = {.http = &http, .json = g.json};
    int rc = cmd->run(&ctx, argc - next, argv + next);
    http_cleanup(&http);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
        perror("corral: stdout");
        rc = CLI_EXIT_FAIL;
    }
    return rc;
}
