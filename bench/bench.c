/*
 * bench.c: `make bench`, fdpass measured against the physical limit (a raw
 * SCM_RIGHTS ping-pong), against itself at scale, against s6-fdholder,
 * through restarts and takeovers, with each target checked. It starts its
 * own brokers on private abstract addresses and stops them. This file sets
 * the run up and holds sections 1 to 4; bench.h names the others' rooms.
 *
 * Usage: fdpass-bench [-s SECTIONS] FDPASS-PROGRAM
 * (fdpass-bench --httpd is section 7's server; see restart.c.)
 * Exit status: 0 when every target is met, 1 when one is missed, 3 when the
 * benchmark itself could not run.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>
#include <sys/socket.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* The far side of the ping-pong: send back what arrives, fds and all. */
static void __attribute__((noreturn))
echo_peer(int sock)
{
	unsigned char buf[16];
	int fds[FDP_MAX_FDS];
	size_t nfds;
	ssize_t n;

	for (;;) {
		nfds = FDP_MAX_FDS;
		if ((n = fdp_recv_msg(sock, buf, sizeof(buf), fds, &nfds)) <= 0)
			_exit(0);
		fdp_send_msg(sock, buf, (size_t)n, fds, nfds);
		fdp_close_fds(fds, nfds);
	}
}

/* A process at the other end of a socketpair that echoes; returns our end. */
static int
raw_peer_start(pid_t *pid)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair: %s", strerror(errno));
	if ((*pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (*pid == 0) {
		close(sv[0]);
		echo_peer(sv[1]);
	}
	close(sv[1]);
	return sv[0];
}

/* One of several clients: retrieve as fast as it can once told to go. */
static void __attribute__((noreturn))
busy_client(const char *address, int ready, int go, int result)
{
	int sock = connect_broker(address);
	double rate;
	long long start, end, count = 0;
	char c;

	call(sock, FDP_OP_RETRIEVE, 0, "one", NULL, 0);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		_exit(3);
	start = now_ns();
	end = start + RATE_RUN_NS;
	do {
		call(sock, FDP_OP_RETRIEVE, 0, "one", NULL, 0);
		count++;
	} while (now_ns() < end);
	rate = (double)count * 1e9 / (double)(now_ns() - start);
	_exit(write(result, &rate, sizeof(rate)) == sizeof(rate) ? 0 : 3);
}

/* Aggregate retrieves per second of nclients clients running at once. */
static double
concurrent_rate(const struct bench *b, int nclients)
{
	int ready[2], go[2], result[2], i;
	double rate, total = 0;
	pid_t *pids;
	char c;

	if ((pids = calloc((size_t)nclients, sizeof(*pids))) == NULL)
		die("%s", strerror(ENOMEM));
	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1 ||
	    pipe2(result, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	for (i = 0; i < nclients; i++) {
		if ((pids[i] = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			close(go[1]);
			busy_client(b->address, ready[1], go[0], result[1]);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(result[1]);
	for (i = 0; i < nclients; i++)
		if (read(ready[0], &c, 1) != 1)
			die("a client did not start");
	close(go[1]);
	for (i = 0; i < nclients; i++) {
		if (read(result[0], &rate, sizeof(rate)) != sizeof(rate))
			die("a client did not report");
		total += rate;
	}
	for (i = 0; i < nclients; i++)
		reap(pids[i], "a client");
	close(ready[0]);
	close(result[0]);
	free(pids);
	return total;
}

/* Client counts the concurrency lines compare. */
static const int client_counts[] = { 1, 8, 64 };
#define NCOUNTS	(sizeof(client_counts) / sizeof(client_counts[0]))

/* The median over RATE_RUNS runs of each count's rate, runs interleaved. */
static void
concurrent_medians(const struct bench *b, double *medians)
{
	double rates[NCOUNTS][RATE_RUNS];
	size_t i, k;

	for (i = 0; i < RATE_RUNS; i++)
		for (k = 0; k < NCOUNTS; k++)
			rates[k][i] = concurrent_rate(b, client_counts[k]);
	for (k = 0; k < NCOUNTS; k++)
		medians[k] = median_of(rates[k], RATE_RUNS);
}

/* Raise the fd limit as far as the scale test needs and we may. */
static void
raise_nofile(struct bench *b)
{
	struct rlimit rl;
	rlim_t want = WANT_NOFILE;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < want) {
		rl.rlim_max = want;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
	b->nofile = rl.rlim_cur;
}

/*
 * How the fdpass under test was linked, which section 6 depends on: whether
 * its ELF program headers ask for a dynamic loader.
 */
static const char *
linkage(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	const char *what = "of unknown linkage";
	int fd, i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return what;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64) {
		what = "linked statically";
		for (i = 0; i < eh.e_phnum; i++)
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			    (Elf64_Off)i * eh.e_phentsize)) ==
			    (ssize_t)sizeof(ph) && ph.p_type == PT_INTERP)
				what = "linked dynamically";
	}
	close(fd);
	return what;
}

/* Name the machine the figures come from. */
static void
print_machine(const struct bench *b)
{
	char line[256], model[256] = "unknown CPU", kernel[256] = "";
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "model name : %255[^\n]", model) == 1)
				break;
		fclose(f);
	}
	if ((f = fopen("/proc/sys/kernel/osrelease", "re")) != NULL) {
		if (fgets(kernel, sizeof(kernel), f) != NULL)
			kernel[strcspn(kernel, "\n")] = '\0';
		fclose(f);
	}
	printf("fdpass-bench: %ld x %s, Linux %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	    model, kernel);
	printf("%s: %s\n", b->fdpass, linkage(b->fdpass));
	printf("sections 1, 2, 4, 5 and 8 run on CPU 0 (the benchmark and its "
	    "brokers), 3, 6 and 7 on every CPU\n");
	printf("RLIMIT_NOFILE %llu for the benchmark and its brokers",
	    (unsigned long long)b->nofile);
	if (b->nofile < SCALE_FDS + SCALE_SLACK)
		printf(" (raising the hard limit was refused: no "
		    "CAP_SYS_RESOURCE);\nsections 5 and 8 hold %llu fds, "
		    "not %d", (unsigned long long)b->nofile - SCALE_SLACK,
		    SCALE_FDS);
	printf("\n\n");
	printf("| %-44s | %-26s | %-22s | %6s | %-8s | %-4s |\n", "measure",
	    "figure", "reference", "ratio", "target", "met");
	printf("|%.46s|%.28s|%.24s|%.8s|%.10s|%.6s|\n", "--------------------"
	    "----------------------------", "------------------------------",
	    "--------------------------", "----------", "------------",
	    "--------");
}

/* 1, 2 and 4: the raw limit and one client's requests against it. */
static void
bench_one_client(struct bench *b)
{
	struct probe p[4];
	struct stats st[4];
	int fds[FDP_MAX_FDS];
	pid_t raw;
	size_t i;

	for (i = 0; i < FDP_MAX_FDS; i++)
		fds[i] = b->sample_fd;
	memset(p, 0, sizeof(p));
	p[0].sock = raw_peer_start(&raw);
	p[0].raw = 1;
	p[1].sock = connect_broker(b->address);
	p[1].op = FDP_OP_RETRIEVE;
	p[2].sock = p[1].sock;
	p[2].op = FDP_OP_STORE;
	p[0].fds = p[2].fds = fds;
	p[0].nfds = p[2].nfds = 1;
	p[1].name = p[2].name = "one";
	store_copies(p[1].sock, "one", b->sample_fd, 1);
	time_probes(p, 3, LATENCY_SAMPLES, st);
	report_latency(b, "1 raw SCM_RIGHTS ping-pong, 1 fd each way", &st[0],
	    "(reference)", NULL, 0);
	report_latency(b, "2 broker retrieve (1 fd back), 1 client", &st[1],
	    "raw, 1 fd", &st[0], 1.5);
	report_rate(b, "2 broker retrieve, requests per second", st[1].rate,
	    "req/s", "raw round trips/s", st[0].rate, 0);
	report_latency(b, "2 broker store --replace (1 fd), 1 client", &st[2],
	    "raw, 1 fd", &st[0], 1.5);
	report_rate(b, "2 broker store, requests per second", st[2].rate,
	    "req/s", "raw round trips/s", st[0].rate, 0);
	p[0].nfds = p[2].nfds = FDP_MAX_FDS;
	p[1].name = p[2].name = "bulk";
	store_copies(p[1].sock, "bulk", b->sample_fd, FDP_MAX_FDS);
	time_probes(p, 3, BULK_SAMPLES, st);
	report_latency(b, "1 raw SCM_RIGHTS ping-pong, 253 fds each way",
	    &st[0], "(reference)", NULL, 0);
	report_rate(b, "4 bulk retrieve, 253-fd groups: fds moved/s",
	    st[1].rate * FDP_MAX_FDS, "fds/s", "raw 253: fds moved/s",
	    st[0].rate * 2 * FDP_MAX_FDS, 0);
	report_rate(b, "4 bulk store, 253-fd groups: fds moved/s",
	    st[2].rate * FDP_MAX_FDS, "fds/s", "raw 253: fds moved/s",
	    st[0].rate * 2 * FDP_MAX_FDS, 0);
	close(p[0].sock);
	close(p[1].sock);
	reap(raw, "the ping-pong peer");
}

/* 3: several clients at once against one. */
static void
bench_concurrency(struct bench *b)
{
	double rate[NCOUNTS];

	concurrent_medians(b, rate);
	report_rate(b, "3 1 client: retrieves/s", rate[0], "req/s",
	    "(reference)", 0, 0);
	report_rate(b, "3 8 clients at once: retrieves/s in all", rate[1],
	    "req/s", "1 client", rate[0], 1.3);
	report_rate(b, "3 64 clients at once: retrieves/s in all", rate[2],
	    "req/s", "1 client", rate[0], 0);
}

/* Whether the run includes a section, named by its digit. */
static int
wanted(const char *sections, char digit)
{
	return sections == NULL || strchr(sections, digit) != NULL;
}

int
main(int argc, char **argv)
{
	const char *sections = NULL;
	struct bench b;
	int p[2];

	if (argc >= 2 && strcmp(argv[1], "--httpd") == 0)
		return bench_httpd(argc, argv);
	if (argc == 4 && strcmp(argv[1], "-s") == 0) {
		sections = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fdpass-bench [-s SECTIONS] "
		    "FDPASS-PROGRAM\n  -s SECTIONS  only these, e.g. 36 "
		    "(1, 2 and 4 run together)\n");
		return 3;
	}
	memset(&b, 0, sizeof(b));
	b.fdpass = argv[1];
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&b);
	if ((b.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1)
		die("setting up: %s", strerror(errno));
	b.sample_fd = p[0];
	print_machine(&b);
	b.broker = start_broker(&b, b.address, sizeof(b.address));
	store_copies(connect_broker(b.address), "one", b.sample_fd, 1);
	place(b.broker, 1);
	if (wanted(sections, '1') || wanted(sections, '2') ||
	    wanted(sections, '4'))
		bench_one_client(&b);
	if (wanted(sections, '3')) {
		place(b.broker, 0);
		bench_concurrency(&b);
		place(b.broker, 1);
	}
	if (wanted(sections, '5'))
		bench_scale(&b);
	if (wanted(sections, '6')) {
		place(b.broker, 0);
		bench_cli(&b);
	}
	if (wanted(sections, '7')) {
		place(b.broker, 0);
		bench_restarts(&b);
	}
	if (wanted(sections, '8')) {
		place(b.broker, 1);
		bench_takeover(&b);
	}
	stop_daemon(b.broker, "fdpass serve");
	printf("\n%d of %d targets met\n", b.checked - b.missed, b.checked);
	return b.missed == 0 ? 0 : 1;
}
