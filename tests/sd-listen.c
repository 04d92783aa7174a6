/*
 * sd-listen: a LISTEN_FDS consumer built against libsystemd, to show that
 * what fdpass exec hands a program is what sd_listen_fds_with_names(3)
 * accepts. Prints the count, then one line per fd: its number, its name,
 * what sd_is_socket(3) says about it, and whether it came without
 * close-on-exec (sd_listen_fds() sets the flag itself). Exits 1 when
 * libsystemd refuses the environment.
 *
 * With --pidfdid it first prints "pidfdid=VALUE own=ID": LISTEN_PIDFDID as
 * set (or "unset") and the inode number of its own pidfd where pidfds have
 * unique inodes (pidfs, Linux 6.9+; "none" elsewhere). The check systemd
 * 258's sd_listen_fds() makes, which older libsystemd lacks: when both are
 * there they must be equal, or the fds are not for this process.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#define PIDFS_MAGIC	0x50494446

/* Print LISTEN_PIDFDID and the inode number of our own pidfd on pidfs. */
static void
print_pidfdid(void)
{
	const char *env = getenv("LISTEN_PIDFDID");
	struct statfs sfs;
	struct stat st;
	int fd;

	printf("pidfdid=%s own=", env != NULL ? env : "unset");
	fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd >= 0 && fstatfs(fd, &sfs) == 0 && sfs.f_type == PIDFS_MAGIC &&
	    fstat(fd, &st) == 0)
		printf("%llu\n", (unsigned long long)st.st_ino);
	else
		printf("none\n");
	if (fd >= 0)
		close(fd);
}

/* The socket type sd_is_socket() finds, as a word. */
static const char *
socket_kind(int fd)
{
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
		return "stream-listening";
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 0) > 0)
		return "stream";
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) > 0)
		return "dgram";
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_SEQPACKET, 1) > 0)
		return "seqpacket-listening";
	return "not-a-socket";
}

int
main(int argc, char **argv)
{
	char **names = NULL;
	int inherit[64], n, i;

	if (argc > 1 && strcmp(argv[1], "--pidfdid") == 0)
		print_pidfdid();
	for (i = 0; i < 64; i++)
		inherit[i] = !(fcntl(SD_LISTEN_FDS_START + i, F_GETFD) &
		    FD_CLOEXEC);
	n = sd_listen_fds_with_names(0, &names);
	if (n < 0) {
		printf("error %s\n", strerror(-n));
		return 1;
	}
	printf("%d\n", n);
	for (i = 0; i < n; i++) {
		printf("%d %s %s %s\n", SD_LISTEN_FDS_START + i, names[i],
		    socket_kind(SD_LISTEN_FDS_START + i),
		    i < 64 && inherit[i] ? "inherit" : "cloexec");
		free(names[i]);
	}
	free(names);
	return 0;
}
