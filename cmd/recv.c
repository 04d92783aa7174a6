/* recv.c: `fdpass recv`, retrieve a group and describe each of its fds. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <unistd.h>

#include "cmd.h"

static const struct option recv_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	CMD_TRUST_UID_OPTION,
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

/* One line per fd: its place in the group, then what it is. */
static void
print_group(const int *fds, size_t n)
{
	struct fdp_desc d;
	size_t i;

	for (i = 0; i < n; i++) {
		printf("%zu ", i);
		if (fdp_describe(fds[i], &d) == 0)
			fdp_desc_print_text(stdout, &d);
		else
			printf("unknown\n");
	}
}

static int
recv_run(int argc, char **argv)
{
	static struct fdp_reply r;
	const char *socket_opt = NULL, *name;
	int ch, sock, status;

	while ((ch = getopt_long(argc, argv, "s:h", recv_options, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_opt = optarg;
			break;
		case CMD_OPT_TRUST_UID:
			if (cmd_trust_uid("recv", optarg) == -1)
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_usage(&cmd_recv, stdout, 0);
		default:
			return cmd_usage(&cmd_recv, stderr, EXIT_USAGE);
		}
	}
	if (optind != argc - 1)
		return cmd_usage(&cmd_recv, stderr, EXIT_USAGE);
	name = argv[optind];
	if (!cmd_name_ok("recv", name))
		return EXIT_USAGE;
	if ((sock = cmd_connect("recv", socket_opt, &status)) == -1)
		return status;
	status = cmd_retrieve("recv", sock, name, &r);
	close(sock);
	if (status == 0) {
		print_group(r.fds, r.nfds);
		fdp_close_fds(r.fds, r.nfds);
		if (fflush(stdout) == EOF) {
			cmd_warn("recv", "writing the description failed");
			status = EXIT_SYSTEM;
		}
	}
	return status;
}

const struct cmd_entry cmd_recv = {
	"recv",
	"recv [-s ADDR] NAME\n"
	"Retrieve the group held under NAME and describe each fd, one a line.\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	CMD_TRUST_UID_USAGE,
	recv_run,
};
