/* fdpass.c: the program's entry point; it only dispatches to a subcommand. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_serve, &cmd_send, &cmd_recv, &cmd_exec, &cmd_run, &cmd_list,
	&cmd_delete, &cmd_transfer, &cmd_describe, &cmd_status, &cmd_monitor,
};
#define CMD_COUNT (sizeof(cmd_table) / sizeof(cmd_table[0]))

/* The top-level help names every subcommand's usage line. */
static int
fdpass_usage(FILE *f, int status)
{
	size_t i;

	fprintf(f, "usage: fdpass COMMAND [OPTION...] [ARG...]\n");
	for (i = 0; i < CMD_COUNT; i++)
		fprintf(f, "       fdpass %.*s\n",
		    (int)strcspn(cmd_table[i]->usage, "\n"),
		    cmd_table[i]->usage);
	fprintf(f, "Run 'fdpass COMMAND --help' for a command's options, "
	    "'man fdpass' for everything.\n");
	return status;
}

int
main(int argc, char **argv)
{
	size_t i;

	cmd_log_start();
	if (argc < 2)
		return fdpass_usage(stderr, EXIT_USAGE);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return fdpass_usage(stdout, 0);
	if (strcmp(argv[1], "--version") == 0) {
		printf("fdpass %s (protocol %d)\n", PACKAGE_VERSION,
		    FDP_PROTO_VERSION);
		return 0;
	}
	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(argv[1], cmd_table[i]->name) == 0)
			return cmd_table[i]->run(argc - 1, argv + 1);
	fprintf(stderr, "fdpass: unknown command '%s'\n", argv[1]);
	return fdpass_usage(stderr, EXIT_USAGE);
}
