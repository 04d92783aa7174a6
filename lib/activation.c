/*
 * activation.c: fds inherited through systemd's socket-activation protocol
 * (sd_listen_fds(3)): LISTEN_FDS fds from 3 on, meant for the process whose
 * pid LISTEN_PID names, with LISTEN_FDNAMES naming them.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/* A decimal number in an environment variable, or -1. */
static long
fdp_env_number(const char *name)
{
	const char *text = getenv(name);
	char *end;
	long v;

	if (text == NULL || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : v;
}

/* The variables go once read, so a program started later never sees them. */
static void
fdp_listen_unsetenv(void)
{
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("LISTEN_PIDFDID");
}

/*
 * One allocation holds the n name pointers and the names: LISTEN_FDNAMES
 * split at ':', or "unknown" for each fd when it is unset.
 */
static char **
fdp_listen_names(size_t n)
{
	const char *env = getenv("LISTEN_FDNAMES");
	const char *text = env != NULL ? env : "";
	const char *q;
	size_t i, count = 1, len = strlen(text) + 1;
	char **names, *p;

	if (env == NULL)
		len = n * sizeof("unknown");
	else
		for (q = text; (q = strchr(q, ':')) != NULL; q++)
			count++;
	if (env != NULL && count != n) {
		errno = EINVAL;
		return NULL;
	}
	if ((names = malloc(n * sizeof(*names) + len)) == NULL)
		return NULL;
	p = (char *)(names + n);
	for (i = 0; i < n; i++) {
		names[i] = p;
		if (env == NULL) {
			p = stpcpy(p, "unknown") + 1;
			continue;
		}
		len = strcspn(text, ":");
		memcpy(p, text, len);
		p[len] = '\0';
		p += len + 1;
		text += len + (text[len] == ':');
	}
	return names;
}

/* describe shows what a program inherits; the others read it through here. */
int
fdp_listen_fds_peek(char ***names)
{
	long n = fdp_env_number("LISTEN_FDS");
	long pid = fdp_env_number("LISTEN_PID");

	*names = NULL;
	if (n <= 0 || pid != (long)getpid())
		return 0;
	if (n > INT_MAX - FDP_LISTEN_FDS_START)
		return FDP_EENV;
	if ((*names = fdp_listen_names((size_t)n)) == NULL)
		return errno == EINVAL ? FDP_EENV : FDP_ESYS;
	return (int)n;
}

/* exec passes them on, serve serves on one, send stores them: one reader. */
int
fdp_listen_fds(char ***names)
{
	int n = fdp_listen_fds_peek(names);
	int i;

	for (i = 0; i < n; i++)
		if (fcntl(FDP_LISTEN_FDS_START + i, F_SETFD, FD_CLOEXEC) == -1) {
			free(*names);
			*names = NULL;
			n = FDP_EENV;
			break;
		}
	fdp_listen_unsetenv();
	return n;
}
