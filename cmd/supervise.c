/*
 * supervise.c: `fdpass run`'s supervisor loop: starts instances, replaces
 * the serving one on SIGHUP, restarts one that ends, stops them all.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

/* Instances at once: the serving one, one starting, the rest stopping. */
#define MAX_INSTANCES	16
/* The restart backoff: doubling from FIRST up to MAX, in ms... */
#define BACKOFF_FIRST	100
#define BACKOFF_MAX	10000
/* ...and back to FIRST once an instance has served this long. */
#define BACKOFF_RESET	10000

/* Signals passed on to the serving instance. */
static const int forwarded[] = {
	SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGTTIN, SIGTTOU, SIGALRM, SIGPWR
};

static const char *const restart_names[] = {
	[RUN_RESTART_ON_FAILURE] = "on-failure",
	[RUN_RESTART_ALWAYS] = "always",
	[RUN_RESTART_NO] = "no",
};

struct supervisor {
	struct run_opts		*o;
	struct launch_set	*cur;		/* the fds run holds */
	struct launch_set	 next;		/* --refresh: an instance's new fds */
	struct instance		 inst[MAX_INSTANCES];
	sigset_t		 orig;		/* the signal mask run started with */
	int			 sigfd;
	int			 manager;	/* run's own NOTIFY_SOCKET, or -1 */
	int			 hup;		/* a SIGHUP waits for a restart */
	int			 stopping;	/* SIGTERM or SIGINT came */
	int			 done;		/* nothing will start again */
	int			 ever_started;
	int			 ever_ready;
	int			 exit_status;
	unsigned		 failures;	/* in a row, for the backoff */
	long long		 restart_at;	/* when the next start is due, or 0 */
};

/* "SIGTERM", for the log. */
static const char *
sig_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* "exit 3" or "killed by SIGTERM", for the log. */
static const char *
status_text(int status, char *buf, size_t len)
{
	char name[32];

	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s",
		    sig_name(WTERMSIG(status), name, sizeof(name)));
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	return buf;
}

static struct instance *
find_state(struct supervisor *sv, enum inst_state state)
{
	size_t i;

	for (i = 0; i < MAX_INSTANCES; i++)
		if (sv->inst[i].state == state)
			return &sv->inst[i];
	return NULL;
}

/* Ask inst to stop: the stop signal now, SIGKILL at the deadline. */
static void
stop(struct supervisor *sv, struct instance *inst)
{
	inst->state = INST_STOPPING;
	inst->deadline = run_now() + sv->o->stop_timeout;
	instance_signal(inst, sv->o->stop_signal);
}

/* The fds regathered for an instance that will not serve are closed. */
static void
drop_next(struct supervisor *sv, struct instance *inst)
{
	if (inst->fresh_fds)
		launch_set_free(&sv->next);
	inst->fresh_fds = 0;
}

static void	start(struct supervisor *);

/* A restart is over, done or refused: a SIGHUP that came meanwhile starts one more. */
static void
settled(struct supervisor *sv)
{
	if (sv->hup && !sv->stopping && !sv->done) {
		sv->hup = 0;
		start(sv);
	}
}

/* inst is ready: it serves from now on, and the one it replaces stops. */
static void
ready(struct supervisor *sv, struct instance *inst)
{
	struct instance *old = find_state(sv, INST_SERVING);
	char buf[64];

	inst->state = INST_SERVING;
	inst->ready_at = run_now();
	cmd_warn("run", "pid %ld ready after %lld ms", (long)inst->pid,
	    inst->ready_at - inst->started);
	if (inst->fresh_fds)
		launch_set_move(sv->cur, &sv->next);
	inst->fresh_fds = 0;
	if (old != NULL) {
		cmd_warn("run", "stopping old pid %ld (%s)", (long)old->pid,
		    sig_name(sv->o->stop_signal, buf, sizeof(buf)));
		stop(sv, old);
	}
	if (sv->manager != -1) {
		snprintf(buf, sizeof(buf), "%sSTATUS=serving: pid %ld",
		    sv->ever_ready ? "" : "READY=1\n", (long)inst->pid);
		fdp_notify_send(sv->manager, buf, NULL, 0);
	}
	sv->ever_ready = 1;
	settled(sv);
}

/*
 * The instance that served, or was to, ended and none replaces it: start
 * another after the backoff, or end, as --restart says.
 */
static void
after_exit(struct supervisor *sv, int status, int failed, long long served)
{
	long long delay = BACKOFF_FIRST;
	unsigned i;

	sv->exit_status = run_exit_code(status);
	if (sv->stopping)
		return;
	if (sv->o->restart == RUN_RESTART_NO ||
	    (sv->o->restart == RUN_RESTART_ON_FAILURE && !failed)) {
		cmd_warn("run", "not restarting (--restart=%s)",
		    restart_names[sv->o->restart]);
		sv->done = 1;
		return;
	}
	if (served >= BACKOFF_RESET)
		sv->failures = 0;
	for (i = 0; i < sv->failures && delay < BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	sv->failures++;
	sv->restart_at = run_now() + delay;
	cmd_warn("run", "restarting in %.1f s", (double)delay / 1000);
}

/* Whether a wait status is a failure: a nonzero exit or a signal. */
static int
failure(int status)
{
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* inst, started to replace serving, will not: serving stays. */
static void
refuse(struct supervisor *sv, struct instance *inst,
    const struct instance *serving, const char *why)
{
	cmd_warn("run", "restart refused: new pid %ld %s; pid %ld serves on",
	    (long)inst->pid, why, (long)serving->pid);
	drop_next(sv, inst);
}

/* inst's main process ended with status. */
static void
gone(struct supervisor *sv, struct instance *inst, int status)
{
	struct instance copy, *serving;
	long long served = inst->ready_at != 0 ? run_now() - inst->ready_at : 0;
	char text[48], why[96];

	status_text(status, text, sizeof(text));
	drop_next(sv, inst);
	copy = *inst;
	instance_clear(inst);
	switch (copy.state) {
	case INST_STOPPING:
		/* "old" only for one that served and was replaced. */
		cmd_warn("run", "%spid %ld stopped (%s)", copy.ready_at != 0 &&
		    !copy.primary ? "old " : "", (long)copy.pid, text);
		if (copy.primary)
			sv->exit_status = run_exit_code(status);
		if (copy.failed && find_state(sv, INST_SERVING) == NULL &&
		    find_state(sv, INST_STARTING) == NULL)
			after_exit(sv, status, 1, 0);
		break;
	case INST_STARTING:
		snprintf(why, sizeof(why), "exited (%s) before it was ready",
		    text);
		if ((serving = find_state(sv, INST_SERVING)) != NULL) {
			refuse(sv, &copy, serving, why);
			settled(sv);
			break;
		}
		cmd_warn("run", "pid %ld %s", (long)copy.pid, why);
		after_exit(sv, status, failure(status), 0);
		break;
	case INST_SERVING:
		cmd_warn("run", "pid %ld exited (%s)", (long)copy.pid, text);
		if (find_state(sv, INST_STARTING) != NULL)
			sv->exit_status = run_exit_code(status);
		else
			after_exit(sv, status, failure(status), served);
		break;
	case INST_FREE:
		break;
	}
}

/* The new instance could not even be started. */
static void
start_failed(struct supervisor *sv, struct instance *serving, int status)
{
	if (serving != NULL)
		cmd_warn("run", "restart refused: no new instance could start; "
		    "pid %ld serves on", (long)serving->pid);
	else if (!sv->ever_started) {
		sv->exit_status = status;
		sv->done = 1;
	} else
		after_exit(sv, status << 8, 1, 0);
}

/*
 * Start an instance: the first, one to replace the serving one, or one
 * after the last ended. With --refresh, on the groups gathered anew.
 */
static void
start(struct supervisor *sv)
{
	struct run_opts *o = sv->o;
	struct launch_set *set = sv->cur;
	struct instance *inst = find_state(sv, INST_FREE);
	struct instance *serving = find_state(sv, INST_SERVING);
	int status;

	sv->restart_at = 0;
	if (inst == NULL) {
		cmd_warn("run", "%d instances still stopping: starting once "
		    "one is gone", MAX_INSTANCES);
		sv->hup = 1;
		return;
	}
	if (o->refresh) {
		if (launch_regather(&o->launch, sv->cur, &sv->next) == 0)
			set = &sv->next;
		else if (serving != NULL) {
			cmd_warn("run", "restart refused: the groups could not "
			    "be gathered again; pid %ld serves on",
			    (long)serving->pid);
			return;
		} else
			cmd_warn("run", "the groups could not be gathered "
			    "again: starting with the fds held");
	}
	if ((status = launch_set_mode(&o->launch, set)) == 0)
		status = instance_start(o, set, inst, &sv->orig);
	if (status != 0) {
		if (set == &sv->next)
			launch_set_free(&sv->next);
		start_failed(sv, serving, status);
		return;
	}
	sv->ever_started = 1;
	inst->fresh_fds = set == &sv->next;
	cmd_warn("run", "started pid %ld", (long)inst->pid);
	if (o->ready == RUN_READY_EXEC)
		ready(sv, inst);
	else
		inst->deadline = inst->started + (o->ready == RUN_READY_DELAY ?
		    o->ready_delay : o->ready_timeout);
}

/* A starting instance was not ready in time: it is stopped. */
static void
timed_out(struct supervisor *sv, struct instance *inst)
{
	struct instance *serving;
	char why[64];

	snprintf(why, sizeof(why), "was not ready within %g s",
	    (double)sv->o->ready_timeout / 1000);
	inst->failed = 1;
	if ((serving = find_state(sv, INST_SERVING)) != NULL) {
		refuse(sv, inst, serving, why);
		stop(sv, inst);
		settled(sv);
	} else {
		cmd_warn("run", "pid %ld %s", (long)inst->pid, why);
		drop_next(sv, inst);
		stop(sv, inst);
	}
}

/* Act on the deadlines that have come. */
static void
on_deadlines(struct supervisor *sv)
{
	struct instance *inst;
	long long now = run_now();
	size_t i;

	for (i = 0; i < MAX_INSTANCES; i++) {
		inst = &sv->inst[i];
		if (inst->state == INST_STARTING && inst->deadline <= now) {
			if (sv->o->ready == RUN_READY_DELAY)
				ready(sv, inst);
			else
				timed_out(sv, inst);
		} else if (inst->state == INST_STOPPING && !inst->killed &&
		    inst->deadline <= now) {
			cmd_warn("run", "pid %ld did not stop within %g s: "
			    "SIGKILL", (long)inst->pid,
			    (double)sv->o->stop_timeout / 1000);
			instance_signal(inst, SIGKILL);
			inst->killed = 1;
		}
	}
	if (sv->restart_at != 0 && sv->restart_at <= now)
		start(sv);
}

/* The earliest deadline, or -1 when nothing waits for one. */
static long long
next_deadline(const struct supervisor *sv)
{
	const struct instance *inst;
	long long t = sv->restart_at != 0 ? sv->restart_at : -1;
	size_t i;

	for (i = 0; i < MAX_INSTANCES; i++) {
		inst = &sv->inst[i];
		if ((inst->state == INST_STARTING ||
		    (inst->state == INST_STOPPING && !inst->killed)) &&
		    (t == -1 || inst->deadline < t))
			t = inst->deadline;
	}
	return t;
}

/* Reap every child that ended: an instance's main, its first process, an orphan. */
static void
reap(struct supervisor *sv)
{
	struct instance *inst;
	int status;
	size_t i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < MAX_INSTANCES; i++) {
			inst = &sv->inst[i];
			if (inst->state == INST_FREE)
				continue;
			if (inst->main == pid) {
				gone(sv, inst, status);
				break;
			}
			if (inst->pid == pid) {
				inst->pid_done = 1;
				cmd_log("run", "pid %ld exited; its main pid %ld "
				    "goes on", (long)pid, (long)inst->main);
				break;
			}
		}
}

/* A MAINPID= process that is not run's child ended (its pidfd says so). */
static void
main_ended(struct supervisor *sv, struct instance *inst)
{
	struct pollfd p = { inst->main_fd, POLLIN, 0 };
	int status;

	if (poll(&p, 1, 0) != 1)
		return;
	if (waitpid(inst->main, &status, WNOHANG) == inst->main) {
		gone(sv, inst, status);
		return;
	}
	cmd_warn("run", "main pid %ld of pid %ld ended; its status is its "
	    "parent's to know", (long)inst->main, (long)inst->pid);
	gone(sv, inst, 1 << 8);
}

/* SIGHUP: replace the serving instance, or remember it while one starts. */
static void
on_hup(struct supervisor *sv)
{
	if (sv->stopping || sv->done)
		return;
	if (find_state(sv, INST_STARTING) != NULL) {
		if (!sv->hup)
			cmd_warn("run", "SIGHUP: a restart is under way; one "
			    "more follows it");
		sv->hup = 1;
		return;
	}
	start(sv);
}

/* SIGTERM, SIGINT: stop every instance; a second one kills them. */
static void
stop_all(struct supervisor *sv, int sig)
{
	struct instance *inst, *serving = find_state(sv, INST_SERVING);
	char name[32];
	size_t i;

	sig_name(sig, name, sizeof(name));
	cmd_warn("run", "%s: %s", name, sv->stopping ? "killing every "
	    "instance" : "stopping");
	for (i = 0; i < MAX_INSTANCES; i++) {
		inst = &sv->inst[i];
		if (inst->state == INST_FREE)
			continue;
		if (sv->stopping) {
			instance_signal(inst, SIGKILL);
			inst->killed = 1;
			continue;
		}
		if (inst->state == INST_SERVING ||
		    (inst->state == INST_STARTING && serving == NULL))
			inst->primary = 1;
		if (inst->state != INST_STOPPING) {
			drop_next(sv, inst);
			stop(sv, inst);
		}
	}
	sv->stopping = 1;
	sv->hup = 0;
	sv->restart_at = 0;
}

static void
on_signal(struct supervisor *sv, int sig)
{
	struct instance *target;

	switch (sig) {
	case SIGCHLD:
		reap(sv);
		break;
	case SIGHUP:
		on_hup(sv);
		break;
	case SIGTERM:
	case SIGINT:
		stop_all(sv, sig);
		break;
	default:
		if ((target = find_state(sv, INST_SERVING)) == NULL)
			target = find_state(sv, INST_STARTING);
		if (target != NULL)
			instance_signal(target, sig);
	}
}

/* Read every signal that came. */
static void
read_signals(struct supervisor *sv)
{
	struct signalfd_siginfo si;

	while (read(sv->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		on_signal(sv, (int)si.ssi_signo);
}

/* Whether run is over: nothing runs and nothing will start. */
static int
finished(const struct supervisor *sv)
{
	size_t i;

	if (!sv->stopping && !sv->done)
		return 0;
	for (i = 0; i < MAX_INSTANCES; i++)
		if (sv->inst[i].state != INST_FREE)
			return 0;
	return 1;
}

/* One round: wait for a signal, a notification, a pidfd or a deadline. */
static int
poll_once(struct supervisor *sv)
{
	struct pollfd pfds[1 + 2 * MAX_INSTANCES];
	struct instance *who[1 + 2 * MAX_INSTANCES];
	long long t = next_deadline(sv), now = run_now();
	struct instance *inst;
	size_t i, n = 1;

	pfds[0].fd = sv->sigfd;
	pfds[0].events = POLLIN;
	for (i = 0; i < MAX_INSTANCES; i++) {
		inst = &sv->inst[i];
		if (inst->state == INST_FREE)
			continue;
		if (inst->notify != -1) {
			pfds[n].fd = inst->notify;
			pfds[n].events = POLLIN;
			who[n++] = inst;
		}
		if (inst->main_fd != -1) {
			pfds[n].fd = inst->main_fd;
			pfds[n].events = POLLIN;
			who[n++] = inst;
		}
	}
	if (poll(pfds, n, t == -1 ? -1 : t <= now ? 0 :
	    (int)(t - now > 3600000 ? 3600000 : t - now)) == -1) {
		if (errno == EINTR)
			return 0;
		cmd_warn("run", "poll: %s", strerror(errno));
		return -1;
	}
	if (pfds[0].revents != 0)
		read_signals(sv);
	for (i = 1; i < n; i++) {
		inst = who[i];
		if (pfds[i].revents == 0 || inst->state == INST_FREE)
			continue;
		if (pfds[i].fd == inst->notify &&
		    instance_read_notify(inst, sv->inst, MAX_INSTANCES) &&
		    inst->state == INST_STARTING)
			ready(sv, inst);
		else if (pfds[i].fd == inst->main_fd)
			main_ended(sv, inst);
	}
	on_deadlines(sv);
	return 0;
}

/* The signals run takes through its signalfd. */
static void
run_signals(sigset_t *mask)
{
	size_t i;

	sigemptyset(mask);
	sigaddset(mask, SIGCHLD);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(mask, forwarded[i]);
}

int
supervise(struct run_opts *o, struct launch_set *set)
{
	static struct supervisor sv;
	sigset_t mask;
	size_t i;

	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	sv.cur = set;
	for (i = 0; i < MAX_INSTANCES; i++)
		sv.inst[i].notify = sv.inst[i].main_fd = -1;
	run_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, &sv.orig);
	if ((sv.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) ==
	    -1) {
		cmd_warn("run", "signalfd: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &sv.orig, NULL);
		return EXIT_SYSTEM;
	}
	/* MAINPID= processes whose parent leaves become run's to reap. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sv.manager = cmd_notify_open("run");
	start(&sv);
	while (!finished(&sv))
		if (poll_once(&sv) == -1) {
			stop_all(&sv, SIGTERM);
			break;
		}
	if (sv.manager != -1) {
		fdp_notify_send(sv.manager, "STOPPING=1", NULL, 0);
		close(sv.manager);
	}
	launch_set_free(&sv.next);
	close(sv.sigfd);
	sigprocmask(SIG_SETMASK, &sv.orig, NULL);
	return sv.exit_status;
}
