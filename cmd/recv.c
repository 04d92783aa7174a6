/*
 * recv.c: `fdpass recv`, retrieve a group and describe each of its fds, as
 * text or JSON, or copy what they hold to standard output.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/sendfile.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "broker/broker.h"

/* What recv prints. */
enum recv_output {
	RECV_TEXT,
	RECV_JSON,
	RECV_CAT
};

/* How --cat moves bytes: the kernel's copies first, read/write last. */
enum cat_method {
	CAT_SENDFILE,	/* regular file: from its offset, without moving it */
	CAT_PREAD,	/* the same, where sendfile cannot */
	CAT_SPLICE,	/* anything else, when either side is a pipe */
	CAT_READ
};

#define CAT_CHUNK	65536

/* Write all of buf to standard output. */
static int
write_all(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One step of a copy: bytes moved, 0 at the end, -1 with errno. */
static ssize_t
cat_step(int fd, enum cat_method how, off_t *off, char *buf)
{
	ssize_t n;

	switch (how) {
	case CAT_SENDFILE:
		return sendfile(STDOUT_FILENO, fd, off, CAT_CHUNK);
	case CAT_SPLICE:
		return splice(fd, NULL, STDOUT_FILENO, NULL, CAT_CHUNK, 0);
	case CAT_PREAD:
		if ((n = pread(fd, buf, CAT_CHUNK, *off)) > 0)
			*off += n;
		break;
	default:
		n = read(fd, buf, CAT_CHUNK);
		break;
	}
	if (n > 0 && write_all(buf, (size_t)n) == -1)
		return -1;
	return n;
}

/*
 * --cat: copy what fd gives to standard output until its end. A regular
 * file is copied from its offset, which stays where it was.
 */
static int
cat_fd(int fd)
{
	static char buf[CAT_CHUNK];
	struct pollfd p = { fd, POLLIN, 0 };
	enum cat_method how = CAT_SPLICE;
	struct stat st;
	off_t off = 0;
	ssize_t n;

	if (fstat(fd, &st) == -1)
		return -1;
	if (S_ISREG(st.st_mode) && (off = lseek(fd, 0, SEEK_CUR)) != -1)
		how = CAT_SENDFILE;
	for (;;) {
		n = cat_step(fd, how, &off, buf);
		if (n == 0)
			return 0;
		if (n > 0 || errno == EINTR)
			continue;
		if (errno == EAGAIN)
			poll(&p, 1, -1);
		else if ((errno == EINVAL || errno == ENOSYS) &&
		    how == CAT_SENDFILE)
			how = CAT_PREAD;
		else if (errno == EINVAL && how == CAT_SPLICE)
			how = CAT_READ;
		else
			return -1;
	}
}

/* --cat of every fd of the group, in order. */
static int
cat_group(const int *fds, size_t n)
{
	struct fdp_desc d;
	size_t i;

	for (i = 0; i < n; i++)
		if (cat_fd(fds[i]) == -1) {
			cmd_warn("recv", "--cat: fd %zu (%s) cannot be read: %s",
			    i, fdp_describe(fds[i], &d) == 0 ? d.kind :
			    "unknown", strerror(errno));
			return EXIT_SYSTEM;
		}
	return 0;
}

/* Print the group the chosen way. */
static int
recv_output(enum recv_output out, const char *name, const int *fds,
    size_t n)
{
	int status = 0;

	if (out == RECV_CAT)
		status = cat_group(fds, n);
	else if (out == RECV_JSON) {
		cmd_print_group_json(name, n, fds, NULL);
		putchar('\n');
	} else
		cmd_print_fds(fds, n, "");
	if (fflush(stdout) == EOF && status == 0) {
		cmd_warn("recv", "writing to standard output failed");
		status = EXIT_SYSTEM;
	}
	return status;
}

static const struct option recv_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	CMD_GET_OPTIONS,
	{ "listen",	no_argument,		NULL,	CMD_OPT_PEER },
	{ "json",	no_argument,		NULL,	'j' },
	{ "cat",	no_argument,		NULL,	'c' },
	CMD_COMMON_OPTIONS
};

/* --peer takes no NAME and neither --take nor --wait; others one NAME. */
static int
recv_args_ok(const struct cmd_get *g, int nargs)
{
	if (g->peer && (g->take || g->wait)) {
		cmd_warn("recv", "--peer receives from one sender; --take "
		    "and --wait are for a broker");
		return 0;
	}
	return nargs == (g->peer ? 0 : 1);
}

static int
recv_run(int argc, char **argv)
{
	static struct fdp_reply r;
	struct cmd_get g = { 0, 0, 0, NULL, 0 };
	enum recv_output out = RECV_TEXT;
	char peer_name[256];
	const char *socket_opt = NULL, *name = peer_name;
	int ch, rc, sock, status;

	while ((ch = getopt_long(argc, argv, "s:jcvh", recv_options,
	    NULL)) != -1) {
		if ((rc = cmd_get_option("recv", ch, optarg, &g)) != 0) {
			if (rc == -1)
				return EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case 'j':
			out = RECV_JSON;
			break;
		case 'c':
			out = RECV_CAT;
			break;
		default:
			if ((status = cmd_common_option(&cmd_recv, ch, optarg,
			    &socket_opt)) != -1)
				return status;
		}
	}
	if (!recv_args_ok(&g, argc - optind))
		return cmd_usage(&cmd_recv, stderr, EXIT_USAGE);
	if (g.peer)
		status = serve_peer("recv", socket_opt, &r, peer_name);
	else {
		name = argv[optind];
		if (!cmd_name_ok("recv", name))
			return EXIT_USAGE;
		if ((sock = cmd_connect("recv", socket_opt, &status)) == -1)
			return status;
		status = cmd_get_group("recv", sock, name, &g, &r);
		close(sock);
	}
	if (status == 0) {
		status = recv_output(out, name, r.fds, r.nfds);
		fdp_close_fds(r.fds, r.nfds);
	}
	return status;
}

const struct cmd_entry cmd_recv = {
	"recv",
	"recv [-v] [-s ADDR] [--take] [--wait[=SECONDS]] [--json | --cat] NAME\n"
	"       fdpass recv [-v] --peer [-s ADDR] [--json | --cat]\n"
	"Retrieve the group held under NAME and describe each fd, one a line.\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	"      --take         remove the group from the broker as it comes (if\n"
	"                     its fds fit under the fd limit; else it stays)\n"
	"      --wait[=SECONDS]  wait for NAME to be stored (at most SECONDS)\n"
	"      --peer         be the broker at ADDR for one `fdpass send'\n"
	"      --listen       the same as --peer\n"
	"  -j, --json         describe the group as JSON (see fdpass(1))\n"
	"  -c, --cat          copy what the fds hold to standard output\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	CMD_TRUST_UID_USAGE,
	recv_run,
};
