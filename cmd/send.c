/*
 * send.c: `fdpass send`, store fds under a name: the caller's own fds, files
 * it opens, sockets it creates, or copies of another process's (--pid).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* An fd the command opens itself, in command-line order. */
struct send_source {
	const char	*arg;
	int		 oflags;	/* open(2) flags for --file; -1 for --listen */
};

/* Open flags a --flags word stands for, and what it clears. */
struct open_word {
	const char	*word;
	int		 set;
	int		 clear;
};

static const struct open_word open_words[] = {
	{ "r",		O_RDONLY,	O_ACCMODE },
	{ "w",		O_WRONLY,	O_ACCMODE },
	{ "rw",		O_RDWR,		O_ACCMODE },
	{ "append",	O_APPEND,	0 },
	{ "create",	O_CREAT,	0 },
	{ "trunc",	O_TRUNC,	0 },
	{ "nonblock",	O_NONBLOCK,	0 },
};

/* --flags LIST: a comma list of open_words; -1 names the bad word. */
static int
parse_open_flags(char *list)
{
	char *word, *save = NULL;
	size_t i;
	int flags = O_RDONLY;

	for (word = strtok_r(list, ",", &save); word != NULL;
	    word = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(open_words) / sizeof(open_words[0]); i++)
			if (strcmp(word, open_words[i].word) == 0)
				break;
		if (i == sizeof(open_words) / sizeof(open_words[0])) {
			cmd_warn("send", "--flags: unknown flag '%s' (r, w, rw, "
			    "append, create, trunc, nonblock)", word);
			return -1;
		}
		flags = (flags & ~open_words[i].clear) | open_words[i].set;
	}
	return flags;
}

/*
 * Open a --file without waiting: a FIFO opened for reading would wait for a
 * writer (and for writing, for a reader) forever. O_NONBLOCK goes again
 * unless --flags asked for it; a file whose lease another process holds
 * is opened again the blocking way, which the kernel bounds.
 */
static int
open_file(const char *path, int oflags)
{
	struct stat st;
	int fd, fl;

	oflags |= O_CLOEXEC | O_NOCTTY;
	fd = open(path, oflags | O_NONBLOCK, 0666);
	if (fd == -1 && errno == EAGAIN && (oflags & O_NONBLOCK) == 0)
		return open(path, oflags, 0666);
	if (fd == -1 && errno == ENXIO && stat(path, &st) == 0 &&
	    S_ISFIFO(st.st_mode)) {
		cmd_warn("send", "%s: a FIFO with no reader: opening it for "
		    "writing only would wait for one (--flags rw does not)",
		    path);
		return -2;
	}
	if (fd == -1 || (oflags & O_NONBLOCK) != 0)
		return fd;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Parse every --listen into l, then open every --file and --listen in
 * order; on failure close what was opened, and remove what the listeners
 * made. Returns an exit status.
 */
static int
open_sources(const struct send_source *src, size_t n,
    struct fdp_listener **l, int *fds)
{
	size_t i;
	int fd, status = 0;

	for (i = 0; i < n && status == 0; i++)
		if (src[i].oflags == -1)
			status = cmd_listener_parse("send", src[i].arg,
			    FDP_LISTEN_STREAM, &l[i]);
	for (i = 0; i < n && status == 0; i++) {
		if (src[i].oflags == -1)
			fd = cmd_listener_open("send", src[i].arg, l[i]);
		else if ((fd = open_file(src[i].arg, src[i].oflags)) == -1)
			cmd_warn("send", "%s: %s", src[i].arg, strerror(errno));
		if (fd < 0) {
			cmd_listeners_undo(l, i);
			fdp_close_fds(fds, i);
			status = EXIT_SYSTEM;
		} else
			fds[i] = fd;
	}
	return status;
}

/* FD arguments must name fds this process already has open. */
static int
parse_fd_args(char **args, int n, int *fds)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = cmd_parse_int(args[i]);
		if (!fdp_fd_is_open(fds[i])) {
			cmd_warn("send", "'%s' is not an open file descriptor",
			    args[i]);
			return -1;
		}
	}
	return 0;
}

/* --ttl SECONDS: a whole number from 1; 0 (after a message) if not. */
static uint32_t
parse_ttl(const char *text)
{
	int ttl = cmd_parse_int(text);

	if (ttl < 1) {
		cmd_warn("send", "--ttl %s: SECONDS must be a whole number "
		    "from 1 to %d", text, INT_MAX);
		return 0;
	}
	return (uint32_t)ttl;
}

/* What fd is in describe.c's words: its kind, and its path or link. */
static void
fd_words(int fd, char *buf, size_t len)
{
	struct fdp_desc d;
	size_t i;

	snprintf(buf, len, "unknown");
	if (fdp_describe(fd, &d) != 0)
		return;
	snprintf(buf, len, "%s", d.kind);
	for (i = 0; i < d.nfields; i++)
		if (strcmp(d.fields[i].key, "path") == 0 ||
		    strcmp(d.fields[i].key, "link") == 0) {
			snprintf(buf, len, "%s %s=%s", d.kind, d.fields[i].key,
			    d.fields[i].value);
			return;
		}
}

/*
 * sendmsg refused the group with EINVAL, which names no fd: find one the
 * kernel will not pass (an io_uring fd, say) by sending each alone over a
 * socketpair, and say which and what it is. Returns 0 if it found one.
 */
static int
refused_fd(const char *name, const int *fds, size_t n)
{
	char words[PATH_MAX + 64], byte;
	int sv[2], fd, found = -1;
	size_t i, k;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	for (i = 0; i < n && found == -1; i++) {
		if (fdp_send_msg(sv[0], "x", 1, &fds[i], 1) == FDP_ESYS) {
			if (errno != EINVAL)
				break;
			fd_words(fds[i], words, sizeof(words));
			cmd_warn("send", "%s: fd %d (%s) cannot be passed: the "
			    "kernel refuses to send it (%s); nothing was "
			    "stored", name, fds[i], words, strerror(EINVAL));
			found = 0;
			continue;
		}
		k = 1;
		if (fdp_recv_msg(sv[1], &byte, 1, &fd, &k) > 0 && k == 1)
			close(fd);
	}
	close(sv[0]);
	close(sv[1]);
	return found;
}

/*
 * STORE fds under name; the exit status, having said why on failure, with
 * the fd the kernel would not pass named.
 */
static int
send_store(int sock, const char *name, uint32_t flags, uint32_t ttl,
    const int *fds, size_t n)
{
	static struct fdp_reply r;
	int rc;

	rc = cmd_call("send", sock, FDP_OP_STORE, flags, ttl, name, fds, n, &r);
	if (rc == FDP_ESYS && errno == EINVAL && refused_fd(name, fds, n) == 0)
		return EXIT_SYSTEM;
	return cmd_call_status("send", name, rc, &r);
}

/*
 * The fds of one name among those inherited: fds[] gets them in order (at
 * most FDP_MAX_FDS; the count says how many there were), and taken[] marks
 * them so the next group skips them.
 */
static size_t
collect_named(char **names, int n, int first, int *fds, char *taken)
{
	size_t k = 0;
	int i;

	for (i = first; i < n; i++)
		if (!taken[i] && strcmp(names[i], names[first]) == 0) {
			taken[i] = 1;
			if (k < FDP_MAX_FDS)
				fds[k] = FDP_LISTEN_FDS_START + i;
			k++;
		}
	return k;
}

/*
 * --listen-fds: store every fd inherited through LISTEN_FDS under its
 * LISTEN_FDNAMES name, fds sharing a name as one group, in the order the
 * names first appear. Stops at the first group refused.
 */
static int
store_listen_fds(const char *socket_opt, uint32_t flags, uint32_t ttl)
{
	char **names, *taken = NULL;
	int fds[FDP_MAX_FDS], n, i, sock, status = 0;
	size_t k;

	if ((n = fdp_listen_fds(&names)) <= 0) {
		cmd_warn("send", "--listen-fds: %s", n < 0 ? fdp_strerror(n) :
		    "no fds inherited through LISTEN_FDS for this process");
		return EXIT_USAGE;
	}
	for (i = 0; i < n && status == 0; i++)
		if (!cmd_name_ok("send", names[i]))
			status = EXIT_USAGE;
	if (status == 0 && (taken = calloc((size_t)n, 1)) == NULL) {
		cmd_warn("send", "%s", strerror(ENOMEM));
		status = EXIT_SYSTEM;
	}
	if (status == 0 && (sock = cmd_connect("send", socket_opt,
	    &status)) >= 0) {
		for (i = 0; i < n && status == 0; i++) {
			if (taken[i])
				continue;
			k = collect_named(names, n, i, fds, taken);
			if (k > FDP_MAX_FDS) {
				cmd_warn("send", "%s: %zu fds; a group holds at "
				    "most %d", names[i], k, FDP_MAX_FDS);
				status = EXIT_USAGE;
				break;
			}
			status = send_store(sock, names[i], flags, ttl, fds, k);
		}
		close(sock);
	}
	free(taken);
	for (i = 0; i < n; i++)
		close(FDP_LISTEN_FDS_START + i);
	free(names);
	return status;
}

static const struct option send_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "replace",	no_argument,		NULL,	'r' },
	{ "file",	required_argument,	NULL,	'f' },
	{ "flags",	required_argument,	NULL,	'o' },
	{ "listen",	required_argument,	NULL,	'l' },
	{ "ttl",	required_argument,	NULL,	't' },
	{ "listen-fds",	no_argument,		NULL,	'F' },
	{ "pid",	required_argument,	NULL,	'p' },
	CMD_COMMON_OPTIONS
};

static int
send_run(int argc, char **argv)
{
	struct send_source src[FDP_MAX_FDS];
	struct fdp_listener *l[FDP_MAX_FDS] = { NULL };
	const char *socket_opt = NULL, *name;
	int fds[FDP_MAX_FDS], oflags = O_RDONLY, ch, sock, status, asked = 0;
	size_t nsrc = 0, nfds, total, i, copied = 0;
	uint32_t flags = 0, ttl = 0;
	int listen_fds = 0;
	pid_t pid = 0;

	while ((ch = getopt_long(argc, argv, "s:rf:o:l:t:p:vh", send_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			if ((pid = cmd_parse_pid("send", optarg)) == 0)
				return EXIT_USAGE;
			break;
		case 't':
			if ((ttl = parse_ttl(optarg)) == 0)
				return EXIT_USAGE;
			flags |= FDP_F_TTL;
			break;
		case 'r':
			flags |= FDP_F_REPLACE;
			break;
		case 'o':
			if ((oflags = parse_open_flags(optarg)) == -1)
				return EXIT_USAGE;
			break;
		case 'f':
		case 'l':
			if (nsrc == FDP_MAX_FDS) {
				cmd_warn("send", "too many file descriptors; "
				    "a group holds at most %d", FDP_MAX_FDS);
				return EXIT_USAGE;
			}
			src[nsrc].arg = optarg;
			src[nsrc++].oflags = ch == 'f' ? oflags : -1;
			break;
		case 'F':
			listen_fds = 1;
			break;
		default:
			if ((status = cmd_common_option(&cmd_send, ch, optarg,
			    &socket_opt)) != -1)
				return status;
		}
	}
	if (listen_fds && (optind < argc || nsrc > 0 || pid != 0)) {
		cmd_warn("send", "--listen-fds takes no NAME, FD, --file, "
		    "--listen or --pid: the names come from LISTEN_FDNAMES");
		return cmd_usage(&cmd_send, stderr, EXIT_USAGE);
	}
	if (listen_fds)
		return store_listen_fds(socket_opt, flags, ttl);
	if (optind >= argc)
		return cmd_usage(&cmd_send, stderr, EXIT_USAGE);
	name = argv[optind++];
	if (!cmd_name_ok("send", name))
		return EXIT_USAGE;
	total = nsrc + (size_t)(argc - optind);
	if (total > FDP_MAX_FDS) {
		cmd_warn("send", "%s: too many file descriptors (%zu); a group "
		    "holds at most %d", name, total, FDP_MAX_FDS);
		return EXIT_USAGE;
	}
	nfds = (size_t)(argc - optind);
	if (pid != 0 && nfds == 0) {
		cmd_warn("send", "--pid %ld: name the file descriptors to copy",
		    (long)pid);
		return EXIT_USAGE;
	}
	if (pid == 0 && parse_fd_args(argv + optind, argc - optind,
	    fds + nsrc) == -1)
		return EXIT_USAGE;
	if (total == 0) {
		if (!fdp_fd_is_open(0)) {
			cmd_warn("send", "standard input is closed; name the "
			    "file descriptors to send");
			return EXIT_USAGE;
		}
		fds[0] = 0;
		nfds = 1;
	}
	if ((status = open_sources(src, nsrc, l, fds)) == 0) {
		if (pid != 0 && (status = cmd_proc_copy("send", pid,
		    argv + optind, (int)nfds, fds + nsrc)) == 0)
			copied = nfds;
		if (status == 0 &&
		    (sock = cmd_connect("send", socket_opt, &status)) >= 0) {
			status = send_store(sock, name, flags, ttl, fds,
			    nsrc + nfds);
			asked = 1;
			close(sock);
		}
		/* A STORE that got no answer may be stored: its files stay. */
		if (status != 0 && (!asked || status == EXIT_REFUSED))
			cmd_listeners_undo(l, nsrc);
		fdp_close_fds(fds, nsrc + copied);
	}
	for (i = 0; i < nsrc; i++)
		fdp_listener_free(l[i]);
	return status;
}

const struct cmd_entry cmd_send = {
	"send",
	"send [-v] [-s ADDR] [--replace] [--ttl SECONDS] [--flags LIST] "
	    "[--file PATH]... [--listen SPEC]... NAME [FD...]\n"
	"       fdpass send [-v] [-s ADDR] [--replace] [--ttl SECONDS] --listen-fds\n"
	"       fdpass send [-v] [-s ADDR] [--replace] [--ttl SECONDS] --pid PID NAME FD...\n"
	"Store file descriptors in the broker under NAME (default: fd 0).\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	CMD_TRUST_UID_USAGE
	"  -r, --replace      replace a group already held under NAME\n"
	"  -t, --ttl SECONDS  the broker closes the group after SECONDS\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	"  -f, --file PATH    open PATH and store it (never waiting on a FIFO)\n"
	"  -o, --flags LIST   open flags for the --file options after it:\n"
	"                     r (default), w, rw, append, create, trunc, nonblock\n"
	"  -l, --listen SPEC  create a listening socket (or FIFO, queue...) and\n"
	"                     store it: tcp:HOST:PORT, udp:HOST:PORT, unix:PATH,\n"
	"                     @NAME, vsock:CID:PORT, fifo:PATH, special:PATH,\n"
	"                     netlink:FAMILY[:GROUP], mqueue:/NAME, then any\n"
	"                     ,Setting=value of systemd.socket(5): Backlog=,\n"
	"                     ReusePort=, NetworkNamespacePath=... (fdpass(1))\n"
	"      --listen-fds   store every fd inherited through LISTEN_FDS under\n"
	"                     its LISTEN_FDNAMES name (one group per name)\n"
	"  -p, --pid PID      the FDs are process PID's: store copies of them\n"
	"                     (pidfd_getfd; PID is not stopped or disturbed)\n",
	send_run,
};
