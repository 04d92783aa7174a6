/* error.c: the sentences behind the library's error codes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>

#include "fdpass.h"

static const char *const fdp_error_text[] = {
	[1] = NULL,		/* FDP_ESYS: strerror(errno) */
	[2] = "more than 253 fds in one message",
	[3] = "file descriptors were lost in transit (receiver out of file descriptors)",
	[4] = "malformed control message",
	[5] = "message too large",
	[6] = "address too long (at most 107 bytes, for a path or after @)",
	[7] = "malformed address",
	[8] = "cannot resolve host or port",
	[9] = "a live server already answers at this address",
	[10] = "peer does not speak the fdpass protocol",
	[11] = "peer speaks another fdpass protocol version",
	[12] = "peer closed the connection",
	[13] = "malformed LISTEN_FDS, LISTEN_PID or LISTEN_FDNAMES (names must match the fds, fds must be open)",
	[14] = "could not return to our own network namespace",
};

/* One place turns any library error code into words for a message. */
const char *
fdp_strerror(int err)
{
	size_t i = (size_t)-err;

	if (err == FDP_ESYS)
		return strerror(errno);
	if (err >= 0 || i >= sizeof(fdp_error_text) / sizeof(fdp_error_text[0]))
		return "unknown error";
	return fdp_error_text[i];
}
