/*
 * fdlimit.c: this process's limit of open fds, and how many it has open:
 * the broker holding groups and a client taking them both need to know.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>

#include <dirent.h>
#include <stdlib.h>

#include "fdpass.h"

/* Learn the fd limit, raising it where the caller holds many fds. */
size_t
fdp_nofile(int raise)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (raise && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 30)
		return 1u << 30;
	return (size_t)rl.rlim_cur;
}

/* Count open fds the way the limit counts them: below it. */
int
fdp_fds_open_below(size_t nofile, size_t *open)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strtoul(de->d_name, NULL, 10) < nofile)
			n++;
	closedir(d);
	*open = n > 0 ? n - 1 : 0;	/* not the directory's own fd */
	return 0;
}
