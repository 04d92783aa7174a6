/* delete.c: `fdpass delete`, have the broker close groups it holds. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <unistd.h>

#include "cmd.h"

static const struct option delete_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	CMD_COMMON_OPTIONS
};

static int
delete_run(int argc, char **argv)
{
	static struct fdp_reply r;
	const char *socket_opt = NULL;
	int ch, i, sock, status, worst = 0;

	while ((ch = getopt_long(argc, argv, "s:vh", delete_options,
	    NULL)) != -1) {
		switch (ch) {
		default:
			if ((status = cmd_common_option(&cmd_delete, ch, optarg,
			    &socket_opt)) != -1)
				return status;
		}
	}
	if (optind >= argc)
		return cmd_usage(&cmd_delete, stderr, EXIT_USAGE);
	for (i = optind; i < argc; i++)
		if (!cmd_name_ok("delete", argv[i]))
			return EXIT_USAGE;
	if ((sock = cmd_connect("delete", socket_opt, &status)) == -1)
		return status;
	for (i = optind; i < argc && worst != EXIT_SYSTEM; i++) {
		status = cmd_call_status("delete", argv[i], cmd_call("delete",
		    sock, FDP_OP_DELETE, 0, 0, argv[i], NULL, 0, &r), &r);
		if (status > worst)
			worst = status;
	}
	close(sock);
	return worst;
}

const struct cmd_entry cmd_delete = {
	"delete",
	"delete [-v] [-s ADDR] [--trust-uid N] NAME...\n"
	"Have the broker close the groups held under the NAMEs.\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	CMD_TRUST_UID_USAGE,
	delete_run,
};
