/*
 * instance.c: one program `fdpass run` starts: the fork with the fds in
 * place, its own NOTIFY_SOCKET and what comes on it, and its signals.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* The largest notification read; a longer datagram is dropped whole. */
#define NOTIFY_MAX		4096
/* Datagrams read per wakeup, so that a flood cannot hold the loop. */
#define NOTIFY_PER_WAKEUP	64
/* How far up the parents of a sender run looks for the instance. */
#define TREE_DEPTH		64

long long
run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
run_exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * A datagram socket for one instance's notifications, bound to an abstract
 * name the kernel picks (autobind), with SO_PASSCRED so that each datagram
 * says who sent it. Its address, "@name", goes to addr.
 */
static int
notify_socket(char *addr, size_t len)
{
	struct sockaddr_un sun;
	socklen_t sl = sizeof(sun);
	size_t name_len;
	int fd, one = 1;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sa_family_t)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sun, &sl) == -1 ||
	    sl <= offsetof(struct sockaddr_un, sun_path) + 1 ||
	    (name_len = sl - offsetof(struct sockaddr_un, sun_path) - 1) >=
	    len - 1) {
		close(fd);
		return -1;
	}
	addr[0] = '@';
	memcpy(addr + 1, sun.sun_path + 1, name_len);
	addr[name_len + 1] = '\0';
	return fd;
}

/*
 * In the child, before the fds are placed: what it gets besides them. The
 * signals run took (those it blocks beyond orig) and the stop signal get
 * their default action back: run may have been started with them ignored,
 * as a shell ignores SIGINT and SIGQUIT for what it starts with &, but it
 * passes them on to be acted upon.
 */
static void
child_setup(const char *notify_addr, const sigset_t *orig, int stop_signal)
{
	sigset_t taken;
	int sig;

	setpgid(0, 0);
	if (notify_addr != NULL)
		setenv("NOTIFY_SOCKET", notify_addr, 1);
	else
		unsetenv("NOTIFY_SOCKET");
	sigprocmask(SIG_SETMASK, NULL, &taken);
	for (sig = 1; sig < NSIG; sig++)
		if (sig == stop_signal || (sigismember(&taken, sig) == 1 &&
		    sigismember(orig, sig) == 0))
			signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, orig, NULL);
}

int
instance_start(const struct run_opts *o, struct launch_set *set,
    struct instance *inst, const sigset_t *orig)
{
	char addr[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	unsigned char failed;
	int report[2], status;
	ssize_t n;
	pid_t pid;

	memset(inst, 0, sizeof(*inst));
	inst->notify = inst->main_fd = -1;
	if (o->ready == RUN_READY_NOTIFY &&
	    (inst->notify = notify_socket(addr, sizeof(addr))) == -1) {
		cmd_warn("run", "cannot make a NOTIFY_SOCKET: %s",
		    strerror(errno));
		return EXIT_SYSTEM;
	}
	if (pipe2(report, O_CLOEXEC) == -1) {
		cmd_warn("run", "cannot start %s: %s", o->launch.prog[0],
		    strerror(errno));
		instance_clear(inst);
		return EXIT_SYSTEM;
	}
	if ((pid = fork()) == -1) {
		cmd_warn("run", "cannot start %s: %s", o->launch.prog[0],
		    strerror(errno));
		close(report[0]);
		close(report[1]);
		instance_clear(inst);
		return EXIT_SYSTEM;
	}
	if (pid == 0) {
		close(report[0]);
		child_setup(inst->notify != -1 ? addr : NULL, orig,
		    o->stop_signal);
		_exit(launch_exec(&o->launch, &set->x, &set->p, set->p_targets,
		    o->launch.prog, report[1]));
	}
	close(report[1]);
	setpgid(pid, pid);
	while ((n = read(report[0], &failed, 1)) == -1 && errno == EINTR)
		continue;
	close(report[0]);
	inst->pid = inst->main = pid;
	inst->started = run_now();
	inst->state = INST_STARTING;
	if (n != 1)
		return 0;
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	instance_clear(inst);
	return failed;
}

/* The parent of pid, from /proc/PID/stat; 0 when it cannot be read. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	long ppid;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "PID (COMM) STATE PPID ...": COMM may hold anything, even ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* Whether pid is inst's process or one of its descendants. */
static int
in_tree(pid_t pid, const struct instance *inst)
{
	int depth;

	for (depth = 0; pid > 1 && depth < TREE_DEPTH; depth++) {
		if (pid == inst->pid || pid == inst->main)
			return 1;
		pid = parent_of(pid);
	}
	return 0;
}

/*
 * Who may tell inst it is ready: a process of run's uid or root (the
 * kernel vouches for both through SCM_CREDENTIALS), or one in inst's tree;
 * never the process of another instance.
 */
static int
sender_allowed(const struct ucred *cred, const struct instance *inst,
    const struct instance *all, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (&all[i] != inst && all[i].state != INST_FREE &&
		    (cred->pid == all[i].pid || cred->pid == all[i].main))
			return 0;
	return cred->uid == geteuid() || cred->uid == 0 ||
	    in_tree(cred->pid, inst);
}

/*
 * MAINPID=: the process to signal and to watch is now pid, which must be
 * in inst's tree; a pidfd watches it for its exit.
 */
static void
set_main(struct instance *inst, const char *text)
{
	char *end;
	long pid;
	int fd;

	errno = 0;
	pid = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0 || pid == inst->main)
		return;
	if (pid == inst->pid) {
		if (inst->main_fd != -1)
			close(inst->main_fd);
		inst->main_fd = -1;
		inst->main = inst->pid;
		return;
	}
	if (!in_tree((pid_t)pid, inst) ||
	    (fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) == -1) {
		cmd_log("run", "pid %ld: MAINPID=%ld ignored: not its process",
		    (long)inst->pid, pid);
		return;
	}
	if (inst->main_fd != -1)
		close(inst->main_fd);
	inst->main_fd = fd;
	inst->main = (pid_t)pid;
	cmd_log("run", "pid %ld: main pid is now %ld", (long)inst->pid, pid);
}

/* Act on one notification's KEY=VALUE lines; 1 if it said READY=1. */
static int
notify_lines(struct instance *inst, char *text)
{
	char *line, *save = NULL;
	int ready = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "READY=1") == 0)
			ready = 1;
		else if (strncmp(line, "MAINPID=", 8) == 0)
			set_main(inst, line + 8);
		else if (strncmp(line, "STATUS=", 7) == 0)
			cmd_log("run", "pid %ld: %s", (long)inst->main, line);
	}
	return ready;
}

/* The credentials of a datagram; fds riding on it are closed. */
static const struct ucred *
notify_cmsgs(struct msghdr *msg)
{
	const struct ucred *cred = NULL;
	struct cmsghdr *c;
	size_t i, nfds;
	int fd;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*cred)))
			cred = (const struct ucred *)CMSG_DATA(c);
		else if (c->cmsg_type == SCM_RIGHTS) {
			nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfds; i++) {
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
				    sizeof(fd));
				close(fd);
			}
		}
	}
	return cred;
}

int
instance_read_notify(struct instance *inst, const struct instance *all,
    size_t n)
{
	static char buf[NOTIFY_MAX + 1];
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(FDP_MAX_FDS * sizeof(int))];
	} ctl;
	const struct ucred *cred;
	struct msghdr msg;
	struct iovec iov;
	ssize_t len;
	int k, ready = 0;

	for (k = 0; k < NOTIFY_PER_WAKEUP; k++) {
		iov.iov_base = buf;
		iov.iov_len = NOTIFY_MAX;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		if ((len = recvmsg(inst->notify, &msg, MSG_DONTWAIT |
		    MSG_CMSG_CLOEXEC)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		cred = notify_cmsgs(&msg);
		if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
		    cred == NULL || !sender_allowed(cred, inst, all, n)) {
			cmd_log("run", "pid %ld: a notification dropped (too "
			    "long, or from pid %ld, not allowed)",
			    (long)inst->pid, cred != NULL ? (long)cred->pid : 0L);
			continue;
		}
		buf[len] = '\0';
		ready |= notify_lines(inst, buf);
	}
	return ready;
}

void
instance_signal(struct instance *inst, int sig)
{
	if (inst->main_fd != -1)
		syscall(SYS_pidfd_send_signal, inst->main_fd, sig, NULL, 0);
	else if (!inst->pid_done)
		kill(inst->pid, sig);
	if (sig == SIGKILL)
		killpg(inst->pid, SIGKILL);
}

void
instance_clear(struct instance *inst)
{
	if (inst->notify != -1)
		close(inst->notify);
	if (inst->main_fd != -1)
		close(inst->main_fd);
	memset(inst, 0, sizeof(*inst));
	inst->notify = inst->main_fd = -1;
	inst->state = INST_FREE;
}
