/*
 * run.h: what `fdpass run` is made of: its options (run.c), one started
 * program (instance.c), the supervisor that restarts them (supervise.c).
 */
#ifndef FDPASS_RUN_H
#define FDPASS_RUN_H

#include "launch.h"

/* How an instance says it is ready: --ready=notify|SECONDS|exec. */
enum run_ready {
	RUN_READY_NOTIFY,
	RUN_READY_DELAY,
	RUN_READY_EXEC
};

/* When an instance that ends on its own is started again: --restart. */
enum run_restart {
	RUN_RESTART_ON_FAILURE,
	RUN_RESTART_ALWAYS,
	RUN_RESTART_NO
};

/* What run's options ask for. Times are in milliseconds. */
struct run_opts {
	struct launch_opts	 launch;
	enum run_ready		 ready;
	long long		 ready_delay;
	long long		 ready_timeout;
	long long		 stop_timeout;
	int			 stop_signal;
	enum run_restart	 restart;
	int			 refresh;
	const char		*pid_file;
};

/* Where an instance is in its life. */
enum inst_state {
	INST_FREE,		/* no instance in this slot */
	INST_STARTING,		/* started, not ready yet */
	INST_SERVING,		/* ready: the one signals are forwarded to */
	INST_STOPPING		/* asked to stop; killed at its deadline */
};

/* One started program. */
struct instance {
	enum inst_state	 state;
	pid_t		 pid;		/* the process run started (its pgid too) */
	pid_t		 main;		/* MAINPID=, else pid */
	int		 main_fd;	/* a pidfd of main when it is not pid */
	int		 pid_done;	/* pid is reaped */
	int		 notify;	/* its NOTIFY_SOCKET, or -1 */
	int		 fresh_fds;	/* started with the regathered set */
	int		 killed;	/* SIGKILL sent */
	int		 failed;	/* stopped for not being ready in time */
	int		 primary;	/* its status is run's */
	long long	 started;	/* monotonic ms */
	long long	 ready_at;
	long long	 deadline;	/* readiness, or SIGKILL when stopping */
	int		 status;	/* wait status once gone */
};

/* The milliseconds of the monotonic clock. */
long long	 run_now(void);

/* ---- instance.c ---- */

/*
 * Start prog as a new instance in slot inst with the fds of set: its own
 * process group, its own NOTIFY_SOCKET for --ready=notify, the signal mask
 * orig. Returns 0, or the exit status exec would have given (126, 127,
 * EXIT_SYSTEM) after saying why; inst is then free again.
 */
int	 instance_start(const struct run_opts *o, struct launch_set *set,
	    struct instance *inst, const sigset_t *orig);

/*
 * Read what waits on inst's notification socket; 1 once READY=1 came from
 * a process allowed to say so, else 0. MAINPID= moves inst->main.
 */
int	 instance_read_notify(struct instance *inst, const struct instance *all,
	    size_t n);

/* Send sig to inst's main process (and, for SIGKILL, its process group). */
void	 instance_signal(struct instance *inst, int sig);

/* Close what inst holds and free its slot. */
void	 instance_clear(struct instance *inst);

/* A wait status as the shell shows it: the exit code, or 128 + signal. */
int	 run_exit_code(int status);

/* ---- supervise.c ---- */

/*
 * Run instances of prog on the fds of set (run now holds them) until
 * SIGTERM or SIGINT, or until one ends and --restart says not to start
 * another. Returns run's exit status.
 */
int	 supervise(struct run_opts *o, struct launch_set *set);

#endif
