/*
 * cli.c: the benchmark's section 6, an fd from one command into another's
 * exec as a shell does it, against the exec floor and against s6-fdholder.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* An s6-fdholder-daemon in a private directory, allowing our uid. */
struct s6 {
	char	dir[64];
	char	sock[96];
	pid_t	pid;
};

/* Write a one-line file, making the directories on the way. */
static void
write_rule(const char *dir, const char *rel, const char *text)
{
	char path[256], *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			die("%s: %s", path, strerror(errno));
		*p = '/';
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("%s: %s", path, strerror(errno));
	close(fd);
}

/* Start s6-fdholder-daemon if s6 is installed; 0 if it is not. */
static int
s6_start(const struct bench *b, struct s6 *s)
{
	static const char *const rules[][2] = {
		{ "allow", "" },
		{ "env/S6_FDHOLDER_STORE_REGEX", ".*\n" },
		{ "env/S6_FDHOLDER_RETRIEVE_REGEX", ".*\n" },
	};
	char dir[128], rel[128];
	const char *argv[] = { "s6-fdholder-daemon", "-1",
	    "-i", dir, s->sock, NULL };
	size_t i;

	if (system("command -v s6-fdholder-daemon >/dev/null") != 0)
		return 0;
	snprintf(s->dir, sizeof(s->dir), "/tmp/fdpass-bench-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%s/rules", s->dir);
	snprintf(s->sock, sizeof(s->sock), "%s/s6.sock", s->dir);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		snprintf(rel, sizeof(rel), "uid/%ld/%s", (long)getuid(),
		    rules[i][0]);
		write_rule(dir, rel, rules[i][1]);
	}
	s->pid = start_daemon(argv, 1, b->devnull);
	return 1;
}

/* nftw's callback: remove one entry, deepest first. */
static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Stop the s6 daemon and remove its directory. */
static void
s6_stop(struct s6 *s)
{
	stop_daemon(s->pid, "s6-fdholder-daemon");
	nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The three ways to get an fd from one command into another's exec. */
enum cli_kind { CLI_FLOOR, CLI_FDPASS, CLI_S6, CLI_KINDS };

/* One round of kind k, timed. */
static double
cli_round(const struct bench *b, const struct s6 *s, enum cli_kind k)
{
	const char *const floor[] = { "/bin/true", NULL };
	const char *const send[] = { b->fdpass, "send", "-s",
	    b->address, "--replace", "cli", NULL };
	const char *const exec[] = { b->fdpass, "exec", "-s",
	    b->address, "cli", "--", "/bin/true", NULL };
	const char *const store[] = { "s6-fdholder-store",
	    s->sock, "cli", NULL };
	const char *const retrieve[] = { "s6-fdholder-retrieve", "-D",
	    s->sock, "cli", "/bin/true", NULL };
	long long t = now_ns();

	switch (k) {
	case CLI_FLOOR:
		run(floor, b->devnull);
		run(floor, b->devnull);
		run(floor, b->devnull);
		break;
	case CLI_FDPASS:
		run(send, b->devnull);
		run(exec, b->devnull);
		break;
	case CLI_S6:
		run(store, b->devnull);
		run(retrieve, b->devnull);
		break;
	case CLI_KINDS:
		break;
	}
	return (double)(now_ns() - t);
}

/* Rounds of each kind, interleaved so that drift hits them alike. */
void
bench_cli(struct bench *b)
{
	static double ns[CLI_KINDS][CLI_SAMPLES];
	struct stats st[CLI_KINDS];
	struct s6 s;
	int have_s6 = s6_start(b, &s);
	size_t i;
	int k;

	for (i = 0; i < CLI_SAMPLES + CLI_SAMPLES / 10; i++)
		for (k = 0; k < CLI_KINDS; k++)
			if (k != CLI_S6 || have_s6)
				ns[k][i % CLI_SAMPLES] = cli_round(b, &s, k);
	for (k = 0; k < CLI_KINDS; k++)
		st[k] = stats_of(ns[k], CLI_SAMPLES);
	report_latency(b, "6 floor: three execs of /bin/true", &st[CLI_FLOOR],
	    "(reference)", NULL, 0);
	report_latency(b, "6 fdpass send + fdpass exec /bin/true",
	    &st[CLI_FDPASS], "the floor", &st[CLI_FLOOR], 1.1);
	if (!have_s6) {
		report(b, "6 s6-fdholder-store + -retrieve", "skipped",
		    "s6 not installed", 0, "", 1);
		return;
	}
	report_latency(b, "6 s6-fdholder-store + -retrieve -D /bin/true",
	    &st[CLI_S6], "the floor", &st[CLI_FLOOR], 0);
	report_latency(b, "6 fdpass pair vs the s6 pair", &st[CLI_FDPASS],
	    "s6's pair", &st[CLI_S6], 0.9);
	s6_stop(&s);
}
