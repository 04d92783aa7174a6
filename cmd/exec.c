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

/* Append a group's fds, which x then holds; on failure they are closed. */
static int
append_group(struct exec_fds *x, const char *name, struct fdp_reply *r)
{
	const char **nm;
	size_t j;
	int *fds;

	if ((fds = realloc(x->fds, (x->n + r->nfds) * sizeof(*fds))) != NULL)
		x->fds = fds;
	if ((nm = realloc(x->names, (x->n + r->nfds) * sizeof(*nm))) != NULL)
		x->names = nm;
	if (fds == NULL || nm == NULL) {
		fdp_close_fds(r->fds, r->nfds);
		cmd_warn("exec", "%s", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	for (j = 0; j < r->nfds; j++) {
		x->fds[x->n] = r->fds[j];
		x->names[x->n++] = name;
	}
	return 0;
}

/*
 * exec --take failed after taking groups: store them back, so that a
 * failed exec loses nothing. A name stored again meanwhile keeps the newer
 * group.
 */
static void
restore_taken(int sock, const struct exec_fds *x)
{
	static struct fdp_reply r;
	size_t i, j;

	for (i = 0; i < x->n; i = j) {
		for (j = i; j < x->n && x->names[j] == x->names[i]; j++)
			continue;
		if (cmd_call("exec", sock, FDP_OP_STORE, 0, 0, x->names[i],
		    x->fds + i, j - i, &r) != 0 || r.h.status != FDP_S_OK)
			cmd_warn("exec", "%s: could not store the taken group "
			    "back: %s", x->names[i], fdp_status_text(r.h.status));
	}
}

/*
 * With --take the broker connection stays open (close-on-exec) until PROG
 * runs, to give the groups back if it cannot: move it above the range the
 * fds are placed in. Without --take it is closed.
 */
static int
keep_for_restore(int sock, const struct cmd_get *g, const struct exec_fds *x)
{
	int fd = -1;

	if (g->take)
		fd = fcntl(sock, F_DUPFD_CLOEXEC, LISTEN_FDS_START + (int)x->n);
	close(sock);
	return fd;
}

/* Retrieve each group in order and append its fds. */
static int
retrieve_groups(int sock, char **names, size_t ngroups,
    const struct cmd_get *g, struct exec_fds *x)
{
	static struct fdp_reply r;
	size_t i;
	int status;

	for (i = 0; i < ngroups; i++) {
		status = cmd_get_group("exec", sock, names[i], g, &r);
		if (status == 0)
			status = append_group(x, names[i], &r);
		if (status != 0)
			return status;
	}
	return 0;
}

/* Peer mode: the one group a sender stores at --listen's address. */
static int
receive_peer_group(const char *socket_opt, char *name, struct exec_fds *x)
{
	static struct fdp_reply r;
	int status;

	if ((status = serve_peer("exec", socket_opt, &r, name)) != 0)
		return status;
	return append_group(x, name, &r);
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
	{ "take",	no_argument,		NULL,	CMD_OPT_TAKE },
	{ "wait",	optional_argument,	NULL,	CMD_OPT_WAIT },
	{ "listen",	no_argument,		NULL,	CMD_OPT_LISTEN },
	{ "verbose",	no_argument,		NULL,	'v' },
	CMD_TRUST_UID_OPTION,
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static int
exec_run(int argc, char **argv)
{
	struct exec_fds x = { NULL, NULL, 0 };
	struct cmd_get g = { 0, 0, 0, NULL, 0 };
	char peer_name[256];
	const char *socket_opt = NULL;
	int ch, sock = -1, status, dashes;

	while ((ch = getopt_long(argc, argv, "+s:vh", exec_options, NULL)) != -1) {
		if ((status = cmd_get_option("exec", ch, optarg, &g)) != 0) {
			if (status == -1)
				return EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case 's':
			socket_opt = optarg;
			break;
		case 'v':
			cmd_verbose = 1;
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
	if ((dashes == optind) != g.listen || dashes >= argc - 1) {
		cmd_warn("exec", "%s", dashes >= argc - 1 ?
		    "no PROG given after --" : g.listen ? "--listen takes no "
		    "group NAME: the sender names the group" :
		    "no group NAME given");
		return cmd_usage(&cmd_exec, stderr, EXIT_USAGE);
	}
	if (g.listen && (g.take || g.wait)) {
		cmd_warn("exec", "--listen receives from one sender; --take "
		    "and --wait are for a broker");
		return EXIT_USAGE;
	}
	for (ch = optind; ch < dashes; ch++)
		if (!cmd_name_ok("exec", argv[ch]))
			return EXIT_USAGE;
	if (g.listen)
		status = receive_peer_group(socket_opt, peer_name, &x);
	else if ((sock = cmd_connect("exec", socket_opt, &status)) != -1)
		status = retrieve_groups(sock, argv + optind,
		    (size_t)(dashes - optind), &g, &x);
	if (status == 0 && sock != -1)
		sock = keep_for_restore(sock, &g, &x);
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
	if (status != 0 && g.take && sock != -1)
		restore_taken(sock, &x);
	if (sock != -1)
		close(sock);
	fdp_close_fds(x.fds, x.n);
	free(x.fds);
	free(x.names);
	return status;
}

const struct cmd_entry cmd_exec = {
	"exec",
	"exec [-v] [-s ADDR] [--take] [--wait[=SECONDS]] NAME... -- PROG [ARG...]\n"
	"       fdpass exec [-v] --listen [-s ADDR] -- PROG [ARG...]\n"
	"Retrieve the groups and exec PROG with their fds at 3 onward\n"
	"(LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES as systemd sets them).\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	"      --take         remove the groups from the broker as they come\n"
	"      --wait[=SECONDS]  wait for each NAME to be stored (at most SECONDS)\n"
	"      --listen       be the broker at ADDR for one `fdpass send'\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	CMD_TRUST_UID_USAGE,
	exec_run,
};
