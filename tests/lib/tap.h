/*
 * A few lines of TAP for the library's unit tests (automake's tap-driver.sh
 * reads what they print), and the checks every one of them shares.
 */
#ifndef FDPASS_TAP_H
#define FDPASS_TAP_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

/* Report one check; the description says what should hold. */
static int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/* Print the plan after the last check and give main's exit status. */
static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}

/* Stop the whole run when the test cannot even set itself up. */
static void __attribute__((unused))
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The number of open fds, from /proc/self/fd (less the one listing it). */
static int __attribute__((unused))
fd_count(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		bail("opendir /proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

#endif
