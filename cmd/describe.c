/*
 * describe.c: `fdpass describe`, what a process's fds are, in recv's form:
 * its own as inherited (LISTEN_FDS fds named) or another's (--pid); and
 * the copying of another process's fds that send --pid shares.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* How describe prints, and what it has said so far. */
struct describe_out {
	int		 json;
	size_t		 printed;	/* descriptions so far */
	int		 told_refusal;	/* explained why /proc stands in */
	char		**names;	/* LISTEN_FDNAMES, for fds 3 on */
	int		 nnames;
};

pid_t
cmd_parse_pid(const char *cmd, const char *text)
{
	int pid = cmd_parse_int(text);

	if (pid < 1) {
		cmd_warn(cmd, "--pid %s: not a process id", text);
		return 0;
	}
	return (pid_t)pid;
}

/* Open the process, saying why not: gone, or a thread of another. */
static int
proc_open(const char *cmd, pid_t pid, struct fdp_proc *p)
{
	if (fdp_proc_open(pid, p) == 0)
		return 0;
	if (errno == ESRCH)
		cmd_warn(cmd, "pid %ld: no such process", (long)pid);
	else if (errno == EINVAL)
		cmd_warn(cmd, "pid %ld is a thread of process %ld, whose fds "
		    "it shares: give %ld", (long)pid, (long)p->pid,
		    (long)p->pid);
	else
		cmd_warn(cmd, "pid %ld: %s", (long)pid, strerror(errno));
	return EXIT_SYSTEM;
}

int
cmd_proc_copy(const char *cmd, pid_t pid, char **args, int n, int *fds)
{
	struct fdp_proc p;
	char why[512];
	int copied, fd, status;

	if ((status = proc_open(cmd, pid, &p)) != 0)
		return status;
	for (copied = 0; copied < n; copied++) {
		if ((fd = cmd_parse_int(args[copied])) < 0) {
			cmd_warn(cmd, "'%s' is not a file descriptor number",
			    args[copied]);
			status = EXIT_USAGE;
		} else if ((fds[copied] = fdp_proc_getfd(&p, fd)) >= 0)
			continue;
		else if (errno == EBADF) {
			cmd_warn(cmd, "fd %d is not open in pid %ld", fd,
			    (long)pid);
			status = EXIT_USAGE;
		} else if (errno == ESRCH) {
			cmd_warn(cmd, "pid %ld exited", (long)pid);
			status = EXIT_SYSTEM;
		} else {
			cmd_warn(cmd, "pid %ld: cannot copy fd %d: %s",
			    (long)pid, fd, fdp_proc_explain(&p, "pidfd_getfd",
			    errno, 1, why, sizeof(why)));
			status = EXIT_SYSTEM;
		}
		break;
	}
	if (status != 0)
		fdp_close_fds(fds, (size_t)copied);
	fdp_proc_close(&p);
	return status;
}

/*
 * Say once why fds are described from /proc alone, and what would let
 * describe copy them; the descriptions name what is missing (unread=).
 */
static void
tell_refusal(struct fdp_proc *p, struct describe_out *out)
{
	char why[512];

	if (out->told_refusal || p->refused == 0)
		return;
	out->told_refusal = 1;
	cmd_warn("describe", "pid %ld: its fds cannot be copied, so they are "
	    "described from /proc alone (unread= says what is missing): %s",
	    (long)p->pid, fdp_proc_explain(p, p->refused_by, p->refused, 1,
	    why, sizeof(why)));
}

/* One fd, as a line or a JSON object; its LISTEN_FDNAMES name when it has one. */
static void
print_fd(struct describe_out *out, int fd, struct fdp_desc *d)
{
	int i = fd - FDP_LISTEN_FDS_START;

	if (i >= 0 && i < out->nnames)
		fdp_desc_add(d, "fdname", FDP_FIELD_STRING, out->names[i]);
	if (out->json) {
		if (out->printed > 0)
			putchar(',');
		fdp_desc_print_json_fd(stdout, fd, d);
	} else {
		printf("%d ", fd);
		fdp_desc_print_text(stdout, d);
	}
	out->printed++;
}

/*
 * Describe fd; explicit says the user named it, so a fd not open is an
 * error rather than one closed since the listing. Returns an exit status,
 * or -1 when no other fd can be described: the process is gone, or
 * neither copying nor /proc is permitted.
 */
static int
describe_fd(struct fdp_proc *p, int fd, int explicit, struct describe_out *out)
{
	static struct fdp_desc d;
	char why[512];
	int err;

	if (fdp_proc_describe(p, fd, &d) == 0) {
		tell_refusal(p, out);
		print_fd(out, fd, &d);
		return 0;
	}
	if ((err = errno) == EBADF && !explicit)
		return 0;
	if (err == EBADF && p->self)
		cmd_warn("describe", "fd %d is not open", fd);
	else if (err == EBADF)
		cmd_warn("describe", "fd %d is not open in pid %ld", fd,
		    (long)p->pid);
	else if (err == ESRCH) {
		cmd_warn("describe", "pid %ld exited", (long)p->pid);
		return -1;
	} else {
		cmd_warn("describe", "pid %ld: fd %d can neither be copied nor "
		    "read from /proc: %s", (long)p->pid, fd,
		    fdp_proc_explain(p, "reading /proc", err, 0, why,
		    sizeof(why)));
		return -1;
	}
	return EXIT_USAGE;
}

/*
 * Without --pid: the names LISTEN_FDNAMES gives fds 3 on, read and left
 * as they are (describe changes nothing); says why when there are none
 * for us though LISTEN_FDS is set.
 */
static int
inherited_names(struct describe_out *out)
{
	const char *pid = getenv("LISTEN_PID");
	int n = fdp_listen_fds_peek(&out->names);

	if (n < 0) {
		cmd_warn("describe", "%s", fdp_strerror(n));
		return EXIT_USAGE;
	}
	out->nnames = n;
	if (n == 0 && getenv("LISTEN_FDS") != NULL)
		cmd_warn("describe", "LISTEN_FDS is set for pid %s, not for "
		    "this process (%ld): no fd is named", pid != NULL ? pid :
		    "(LISTEN_PID unset)", (long)getpid());
	return 0;
}

/* Every fd open (or those named), from the lowest; the worst status. */
static int
describe_all(struct fdp_proc *p, char **args, int nargs,
    struct describe_out *out)
{
	char why[512];
	int *fds = NULL, n = nargs, i, rc, status = 0;

	if (nargs == 0 && (n = fdp_proc_fds(p, &fds)) < 0) {
		if (errno == EACCES || errno == EPERM)
			cmd_warn("describe", "pid %ld: cannot list its fds: %s",
			    (long)p->pid, fdp_proc_explain(p, "reading /proc",
			    errno, 0, why, sizeof(why)));
		else if (!fdp_proc_alive(p))
			cmd_warn("describe", "pid %ld exited", (long)p->pid);
		else
			cmd_warn("describe", "pid %ld: cannot list its fds: %s",
			    (long)p->pid, strerror(errno));
		return EXIT_SYSTEM;
	}
	for (i = 0; i < n; i++) {
		rc = describe_fd(p, nargs > 0 ? cmd_parse_int(args[i]) : fds[i],
		    nargs > 0, out);
		if (rc == -1) {
			status = EXIT_SYSTEM;
			break;
		}
		if (rc > status)
			status = rc;
	}
	free(fds);
	return status;
}

static const struct option describe_options[] = {
	{ "pid",	required_argument,	NULL,	'p' },
	{ "json",	no_argument,		NULL,	'j' },
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static int
describe_run(int argc, char **argv)
{
	struct describe_out out = { 0, 0, 0, NULL, 0 };
	struct fdp_proc p;
	pid_t pid = 0;
	int ch, i, status = 0, rc;

	while ((ch = getopt_long(argc, argv, "p:jh", describe_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			if ((pid = cmd_parse_pid("describe", optarg)) == 0)
				return EXIT_USAGE;
			break;
		case 'j':
			out.json = 1;
			break;
		case 'h':
			return cmd_usage(&cmd_describe, stdout, 0);
		default:
			return cmd_usage(&cmd_describe, stderr, EXIT_USAGE);
		}
	}
	for (i = optind; i < argc; i++)
		if (cmd_parse_int(argv[i]) < 0) {
			cmd_warn("describe", "'%s' is not a file descriptor "
			    "number", argv[i]);
			return EXIT_USAGE;
		}
	if (pid == 0 || pid == getpid())
		status = inherited_names(&out);
	if ((rc = proc_open("describe", pid, &p)) != 0) {
		free(out.names);
		return rc;
	}
	if (out.json)
		printf("{\"pid\":%ld,\"fds\":[", (long)p.pid);
	rc = describe_all(&p, argv + optind, argc - optind, &out);
	if (out.json)
		puts("]}");
	fdp_proc_close(&p);
	free(out.names);
	if (fflush(stdout) == EOF) {
		cmd_warn("describe", "writing to standard output failed");
		return EXIT_SYSTEM;
	}
	return rc > status ? rc : status;
}

const struct cmd_entry cmd_describe = {
	"describe",
	"describe [--pid PID] [--json] [FD...]\n"
	"Describe a process's open fds (all, or each FD), one a line, as recv\n"
	"does; without --pid, the fds this command inherited, each LISTEN_FDS\n"
	"fd with its LISTEN_FDNAMES name.\n"
	"  -p, --pid PID      describe process PID's fds: from copies of them\n"
	"                     where ptrace rules permit, else from /proc\n"
	"  -j, --json         print them as JSON (see fdpass(1))\n",
	describe_run,
};
