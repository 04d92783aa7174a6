/*
 * exec.c: `fdpass exec`, retrieve groups and exec a program with their fds
 * at 3 onward under systemd's LISTEN_FDS protocol (sd_listen_fds(3)).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define LISTEN_FDS_START	3

/* The fds retrieved so far and the name each came under. */
struct exec_fds {
	int		*fds;
	const char	**names;
	size_t		 n;
};

/* Retrieve each group in order and append its fds. */
static int
retrieve_groups(int sock, char **names, size_t ngroups, struct exec_fds *x)
{
	static struct fdp_reply r;
	const char **nm;
	size_t i, j;
	int status, *fds;

	for (i = 0; i < ngroups; i++) {
		if ((status = cmd_retrieve("exec", sock, names[i], &r)) != 0)
			return status;
		if ((fds = realloc(x->fds, (x->n + r.nfds) * sizeof(*fds))) != NULL)
			x->fds = fds;
		if ((nm = realloc(x->names, (x->n + r.nfds) * sizeof(*nm))) != NULL)
			x->names = nm;
		if (fds == NULL || nm == NULL) {
			fdp_close_fds(r.fds, r.nfds);
			cmd_warn("exec", "%s", strerror(ENOMEM));
			return EXIT_SYSTEM;
		}
		for (j = 0; j < r.nfds; j++) {
			x->fds[x->n] = r.fds[j];
			x->names[x->n++] = names[i];
		}
	}
	return 0;
}

/*
 * Put fds[i] at LISTEN_FDS_START + i without close-on-exec. Every fd first
 * moves above the target range, so no move overwrites a fd still to move.
 */
static int
place_fds(struct exec_fds *x)
{
	int top = LISTEN_FDS_START + (int)x->n, fd;
	size_t i;

	for (i = 0; i < x->n; i++) {
		if ((fd = fcntl(x->fds[i], F_DUPFD_CLOEXEC, top)) == -1)
			return -1;
		close(x->fds[i]);
		x->fds[i] = fd;
	}
	for (i = 0; i < x->n; i++) {
		if (dup2(x->fds[i], LISTEN_FDS_START + (int)i) == -1)
			return -1;
		close(x->fds[i]);
		x->fds[i] = LISTEN_FDS_START + (int)i;
	}
	return 0;
}

/* LISTEN_FDS, LISTEN_PID (ours: we exec in place) and LISTEN_FDNAMES. */
static int
set_listen_env(const struct exec_fds *x)
{
	char num[32], *names, *p;
	size_t i, len = 1;
	int rc;

	for (i = 0; i < x->n; i++)
		len += strlen(x->names[i]) + 1;
	if ((names = malloc(len)) == NULL)
		return -1;
	for (p = names, i = 0; i < x->n; i++) {
		if (i > 0)
			*p++ = ':';
		p = stpcpy(p, x->names[i]);
	}
	*p = '\0';
	snprintf(num, sizeof(num), "%zu", x->n);
	rc = setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	if (rc == 0)
		rc = setenv("LISTEN_PID", num, 1);
	if (rc == 0)
		rc = setenv("LISTEN_FDNAMES", names, 1);
	if (rc == 0)
		rc = unsetenv("LISTEN_PIDFDID");
	free(names);
	return rc;
}

static const struct option exec_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	CMD_TRUST_UID_OPTION,
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static int
exec_run(int argc, char **argv)
{
	struct exec_fds x = { NULL, NULL, 0 };
	const char *socket_opt = NULL;
	int ch, sock, status, dashes;

	while ((ch = getopt_long(argc, argv, "+s:h", exec_options, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_opt = optarg;
			break;
		case CMD_OPT_TRUST_UID:
			if (cmd_trust_uid("exec", optarg) == -1)
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_usage(&cmd_exec, stdout, 0);
		default:
			return cmd_usage(&cmd_exec, stderr, EXIT_USAGE);
		}
	}
	if (optind > 0 && strcmp(argv[optind - 1], "--") == 0)
		dashes = --optind;	/* getopt took the "--": no NAME came before it */
	else
		for (dashes = optind; dashes < argc; dashes++)
			if (strcmp(argv[dashes], "--") == 0)
				break;
	if (dashes == optind || dashes >= argc - 1) {
		cmd_warn("exec", "%s", dashes == optind ? "no group NAME given" :
		    "no PROG given after --");
		return cmd_usage(&cmd_exec, stderr, EXIT_USAGE);
	}
	for (ch = optind; ch < dashes; ch++)
		if (!cmd_name_ok("exec", argv[ch]))
			return EXIT_USAGE;
	if ((sock = cmd_connect("exec", socket_opt, &status)) == -1)
		return status;
	status = retrieve_groups(sock, argv + optind, (size_t)(dashes - optind),
	    &x);
	close(sock);
	if (status == 0 && (place_fds(&x) == -1 || set_listen_env(&x) == -1)) {
		cmd_warn("exec", "cannot pass the file descriptors on: %s",
		    strerror(errno));
		status = EXIT_SYSTEM;
	}
	if (status == 0) {
		execvp(argv[dashes + 1], argv + dashes + 1);
		cmd_warn("exec", "cannot run %s: %s", argv[dashes + 1],
		    strerror(errno));
		status = errno == ENOENT ? 127 : 126;
	}
	fdp_close_fds(x.fds, x.n);
	free(x.fds);
	free(x.names);
	return status;
}

const struct cmd_entry cmd_exec = {
	"exec",
	"exec [-s ADDR] NAME... -- PROG [ARG...]\n"
	"Retrieve the groups and exec PROG with their fds at 3 onward\n"
	"(LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES as systemd sets them).\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	CMD_TRUST_UID_USAGE,
	exec_run,
};
