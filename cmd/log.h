/*
 * log.h: what every part of fdpass, the client commands and the broker
 * alike, says on standard error and ends with.
 */
#ifndef FDPASS_LOG_H
#define FDPASS_LOG_H

#include "fdpass.h"

/* Exit statuses, documented in fdpass(1). */
#define EXIT_REFUSED	1	/* the broker refused the request */
#define EXIT_USAGE	2	/* bad arguments */
#define EXIT_SYSTEM	3	/* a system or communication failure */

/* Called first in main: each message to stderr in one write. */
void	 cmd_log_start(void);

/* Print "fdpass: CMD: message" to stderr. */
void	 cmd_warn(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* -v: log each protocol step to stderr (cmd_log, cmd_log_record). */
extern int cmd_verbose;

/* Print "fdpass: CMD: message" to stderr when -v was given. */
void	 cmd_log(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * With -v, log one record: "->" sent, "<-" received; client is the
 * broker's number for the client (its fd), -1 on the client's side.
 */
void	 cmd_log_record(const char *cmd, int client, const char *dir,
	    const struct fdp_wire_header *h, const void *payload, size_t len,
	    const int *fds, size_t nfds);

#endif
