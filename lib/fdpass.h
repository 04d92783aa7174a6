/*
 * libfdpass: the internal fd-passing library every fdpass command uses.
 * This is its one public header.
 *
 * THE OWNERSHIP RULE, followed by every function here and by every caller:
 *   Whoever holds an fd closes it. A function that is handed fds only to read
 *   or send them (const int *) borrows them and never closes them. A function
 *   that returns fds hands them over: the caller now holds them. A function
 *   that fails closes every fd it received or opened before it returns, so an
 *   error path never leaks and never hands over half a result.
 *
 * Every fd this library opens or receives carries close-on-exec.
 *
 * Errors: functions return a negative FDP_E* code. FDP_ESYS means errno says
 * why; fdp_strerror() turns any code into a sentence.
 */
#ifndef FDPASS_H
#define FDPASS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol.h"

/* SCM_MAX_FD: the kernel's limit of fds in one SCM_RIGHTS message. */
#define FDP_MAX_FDS	253

/* Library error codes (negative; 0 and up mean success). */
#define FDP_ESYS	(-1)	/* errno holds the reason */
#define FDP_ETOOMANYFDS	(-2)	/* more than FDP_MAX_FDS fds for one message */
#define FDP_ECTRUNC	(-3)	/* the kernel dropped fds in transit (receiver's fd limit) */
#define FDP_ECMSG	(-4)	/* control message of the wrong level, type or length */
#define FDP_ETOOBIG	(-5)	/* record larger than the buffer offered */
#define FDP_EADDRLEN	(-6)	/* address too long for sun_path */
#define FDP_EADDR	(-7)	/* address malformed */
#define FDP_ERESOLVE	(-8)	/* host or port not found */
#define FDP_EINUSE	(-9)	/* a live server already answers at the address */
#define FDP_EPROTO	(-10)	/* peer sent a record that is not fdpass protocol */
#define FDP_EVERSION	(-11)	/* peer speaks another protocol version */
#define FDP_ECLOSED	(-12)	/* peer closed the connection */
#define FDP_EENV	(-13)	/* LISTEN_FDS, LISTEN_PID or LISTEN_FDNAMES malformed */

/* A sentence for any FDP_E* code; for FDP_ESYS, strerror(errno) as it is now. */
const char	*fdp_strerror(int err);

/* ---- msg.c: messages and fds ---- */

/*
 * Send one record of len bytes (len >= 1) with nfds borrowed fds attached.
 * Retries EINTR; never raises SIGPIPE. Returns len or an FDP_E* code
 * (FDP_ETOOMANYFDS past FDP_MAX_FDS, before anything is sent).
 */
ssize_t		 fdp_send_msg(int sock, const void *buf, size_t len,
		    const int *fds, size_t nfds);

/*
 * Receive one record into buf and the fds attached to it into fds. *nfds is
 * the room in fds on entry and the number stored on return; fds beyond the
 * room are closed at once. The control buffer has room for FDP_MAX_FDS fds,
 * so a sender cannot make the kernel truncate. Every fd stored carries
 * close-on-exec. Returns the record's length or an FDP_E* code. 0 means the
 * peer closed, or sent an empty record, which ends a conversation just the
 * same: any fds it carried are closed. On an FDP_E* code no fd is stored or
 * left open: FDP_ECTRUNC when the
 * kernel dropped fds, FDP_ECMSG for a malformed control message, FDP_ETOOBIG
 * when the record did not fit in buf. Retries EINTR.
 */
ssize_t		 fdp_recv_msg(int sock, void *buf, size_t len, int *fds,
		    size_t *nfds);

/* Close n fds and set each slot to -1. */
void		 fdp_close_fds(int *fds, size_t n);

/* Whether fd is an open descriptor of this process. */
int		 fdp_fd_is_open(int fd);

/* ---- nss.c: name lookups ---- */
/* Keep a static fdpass's user, group and host lookups to libc's own sources. */
void		 fdp_nss_builtin_only(void);

/* ---- fdlimit.c: this process's fds ---- */

/*
 * The soft fd limit, raised to the hard one first when asked: a broker
 * holding many groups, or a client taking them, needs every fd the system
 * lets it have.
 */
size_t		 fdp_nofile(int raise);

/*
 * How many fds this process has open below nofile, counted in
 * /proc/self/fd (a tool such as valgrind may hold its own above the limit
 * it reports); -1 with errno when the directory cannot be read.
 */
int		 fdp_fds_open_below(size_t nofile, size_t *open);

/* ---- addr.c: addresses ---- */

/* A Unix socket address: a path, or an abstract name written "@name". */
struct fdp_addr {
	struct sockaddr_un	sun;
	socklen_t		len;
};

/* Parse "@name" (abstract) or a path into a; FDP_EADDR or FDP_EADDRLEN. */
int		 fdp_addr_parse(const char *text, struct fdp_addr *a);

/* Whether a names the abstract namespace. */
int		 fdp_addr_is_abstract(const struct fdp_addr *a);

/*
 * The broker address to use: the option if given, else $FDPASS_SOCKET, else
 * $XDG_RUNTIME_DIR/fdpass.sock, else /run/fdpass.sock for root and
 * /tmp/fdpass-UID.sock for anyone else. Returns buf, or NULL if too long.
 */
const char	*fdp_broker_address(const char *option, char *buf, size_t len);

/*
 * Bind and, for stream and seqpacket types, listen on a Unix address; type is
 * SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM. With restrict_mode a path
 * socket is created under umask 077 (mode 0600). A socket file left at the
 * path is removed only after connect() to it is refused: a live server there
 * gives FDP_EINUSE, a file that is not a socket FDP_ESYS (EADDRINUSE).
 * Returns a close-on-exec, blocking fd.
 */
int		 fdp_listen_unix(const struct fdp_addr *a, int type,
		    int restrict_mode);

/*
 * A path socket's file as the broker bound (or took over) it: its directory
 * held open, its name there, and which file it is, so that the broker
 * removes it when it stops only while it is still that file, never one a
 * later broker bound at the same path. dirfd is -1 for an abstract address.
 */
struct fdp_sockfile {
	int	dirfd;
	char	base[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t	dev;
	ino_t	ino;
};

/*
 * The broker's listener (SOCK_SEQPACKET), safe on a shared machine: a path
 * socket gets exactly mode (e.g. 0600); missing directories leading to it are
 * created 0700; no directory on the way is reached through a symlink that
 * neither root nor we own; and the socket is bound inside the directory as
 * opened (from inside it, so a path of any length up to sun_path's binds),
 * so swapping a directory for a symlink after the check redirects nothing.
 * f receives the socket file, for fdp_sockfile_close. On failure f holds
 * nothing.
 */
int		 fdp_listen_broker(const struct fdp_addr *a, mode_t mode,
		    struct fdp_sockfile *f);

/*
 * The socket file of a broker taken over at a: its directory opened as
 * fdp_listen_broker opens it, and the file as it is now. 0, or -1 with
 * errno and f holding nothing.
 */
int		 fdp_sockfile_claim(const struct fdp_addr *a,
		    struct fdp_sockfile *f);

/*
 * Let go of a socket file, removing it first when remove is set and it is
 * still the one f names; f then holds nothing.
 */
void		 fdp_sockfile_close(struct fdp_sockfile *f, int remove);

/* Connect to a Unix address; returns a close-on-exec, blocking fd. */
int		 fdp_connect_unix(const struct fdp_addr *a, int type);

/* Remove a path socket's file; nothing for abstract addresses. */
void		 fdp_unlink_unix(const struct fdp_addr *a);

/*
 * Bind a to fd, a Unix socket of type: a socket file left at the path is
 * removed and bound again only after connect() to it is refused, so a live
 * server there gives FDP_EINUSE and a file that is not a socket FDP_ESYS
 * (EADDRINUSE). mode (mode_t)-1 binds under the process's umask, any other
 * gives a path socket exactly that mode. Returns 0 or an FDP_E* code.
 */
int		 fdp_bind_unix(int fd, const struct fdp_addr *a, int type,
		    mode_t mode);

/* ---- listen*.c: listeners as a systemd .socket unit makes them ---- */

/* Socket types a listener spec may ask for when it leaves the choice open. */
#define FDP_LISTEN_STREAM	0
#define FDP_LISTEN_DGRAM	1	/* udp, or SOCK_DGRAM for Unix and vsock */
#define FDP_LISTEN_SEQPACKET	2	/* Unix, vsock, SocketProtocol=sctp */

/* Room for any message fdp_listener_parse or fdp_listener_open leaves. */
#define FDP_LISTEN_ERRLEN	512

/* Could not return to our own network namespace: the process must exit. */
#define FDP_ENETNS	(-14)

/* A parsed listener spec: what to create, and its settings. */
struct fdp_listener;

/*
 * Parse a listener spec, "ADDRESS[,Setting=value]...", without creating
 * anything (host names are resolved later, by fdp_listener_open). ADDRESS
 * is tcp:HOST:PORT, udp:HOST:PORT, HOST:PORT, PORT, unix:PATH, /PATH,
 * @NAME, vsock:CID:PORT, fifo:PATH, special:PATH, netlink:FAMILY[:GROUP]
 * or mqueue:/NAME; settings are named as systemd.socket(5) names them. A
 * comma starts a setting only when a name and '=' follow it. deftype
 * (FDP_LISTEN_*) is the socket type of addresses that do not name one.
 * On success *out holds the listener, for fdp_listener_free. On failure
 * err holds one sentence naming what is wrong: FDP_EADDR for a malformed
 * spec or setting, FDP_ESYS (errno) when memory ran out.
 */
int		 fdp_listener_parse(const char *spec, int deftype,
		    struct fdp_listener **out, char *err, size_t errlen);

/*
 * Create what a parsed spec describes and apply its settings: a bound (and
 * for connection types listening) socket, an open FIFO, special file or
 * message queue. Returns a close-on-exec, blocking fd the caller holds,
 * and notes in l what it made on the file system, for fdp_listener_undo.
 * On failure nothing is left behind (a socket file, FIFO, queue, symlink
 * or directory it made is removed again; one that was there before never
 * is), err names the setting or step that failed and why, and the code is
 * FDP_ESYS, FDP_ERESOLVE, FDP_EINUSE, or FDP_ENETNS when the process could
 * not return to its own network namespace after NetworkNamespacePath=.
 */
int		 fdp_listener_open(struct fdp_listener *l, char *err,
		    size_t errlen);

/*
 * Remove what the last fdp_listener_open of l made on the file system (its
 * socket file, FIFO or queue, symlinks and directories), for a command
 * that fails after it: each only while it is still the file made, never
 * one that was there before. Call it before closing the fd, which keeps
 * the file's inode from being reused by another; NULL is fine.
 */
void		 fdp_listener_undo(struct fdp_listener *l);

/* Free a parsed spec; NULL is fine. */
void		 fdp_listener_free(struct fdp_listener *l);

/* ---- sockinfo.c: a listener's settings as the kernel reports them ---- */

/* What fdp_sockinfo learned; -1 where the kernel does not say. */
struct fdp_sockinfo {
	long long	 backlog;	/* listen()'s limit, as the kernel keeps it */
	long long	 pending;	/* connections waiting to be accepted */
	int		 reuseport;	/* SO_REUSEPORT, IP sockets */
	int		 v6only;	/* IPV6_V6ONLY, IPv6 sockets */
	unsigned long long netns;	/* netns inode when not ours, else 0 */
	unsigned long long netns_cookie; /* when not ours and no inode, else 0 */
};

/* Read back what fdpass's listener settings set on a socket of family. */
void		 fdp_sockinfo(int fd, int family, int listening,
		    struct fdp_sockinfo *si);

/* ---- cred.c: peer credentials ---- */

struct fdp_cred {
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
};

/* The credentials of a connected Unix socket's peer, as of connect(). */
int		 fdp_peer_cred(int sock, struct fdp_cred *c);

/* ---- describe*.c: what an fd is; describe-print.c prints it ---- */

#define FDP_DESC_MAX_FIELDS	24

/* What a field's value is, so JSON can print numbers and booleans bare. */
enum fdp_field_type {
	FDP_FIELD_STRING,
	FDP_FIELD_NUMBER,
	FDP_FIELD_BOOLEAN	/* value is "yes" or "no" */
};

/* One key=value fact about an fd. */
struct fdp_field {
	const char		*key;
	const char		*value;
	enum fdp_field_type	 type;
};

/*
 * What fdp_describe() learned: a kind and facts specific to that kind. The
 * values point into text, so copy a description with fdp_describe(), never
 * by value.
 */
struct fdp_desc {
	const char		*kind;
	size_t			 nfields;
	struct fdp_field	 fields[FDP_DESC_MAX_FIELDS];
	size_t			 used;		/* bytes of text in use */
	char			 text[4096 + PATH_MAX];
};

/* Describe fd without changing its state (no reads, no seeks). */
int		 fdp_describe(int fd, struct fdp_desc *d);

/*
 * Print "KIND key=value ..." and a newline; a value that is empty or holds a
 * blank, quote, backslash or '=', or anything fdp_utf8_next does not call
 * FDP_UTF8_TEXT, is quoted, with C escapes (\xNN for each byte of those).
 */
void		 fdp_desc_print_text(FILE *f, const struct fdp_desc *d);

/*
 * Print s as a JSON string, UTF-8 text as it is: commands print names in
 * their JSON too. Quotes and backslashes are escaped, FDP_UTF8_HIDDEN
 * characters written \uXXXX (a surrogate pair above U+FFFF), and each byte
 * 0xNN that is not UTF-8 as the lone surrogate \udcNN, as Python's
 * "surrogateescape" does, so that the bytes can be had back.
 */
void		 fdp_json_print_string(FILE *f, const char *s);

/* Print one JSON object {"kind":..., fields...} with no newline. */
void		 fdp_desc_print_json(FILE *f, const struct fdp_desc *d);

/* ---- utf8.c: text in output ---- */

/* What fdp_utf8_next found. */
enum fdp_utf8_kind {
	FDP_UTF8_TEXT,		/* a character to show as it is */
	FDP_UTF8_HIDDEN,	/* a control, a space other than ' ', or an
				   invisible formatting character: escape it */
	FDP_UTF8_INVALID	/* one byte that is not part of UTF-8 text */
};

/*
 * The next character of the NUL-terminated s (which must not be at its
 * end): its length in bytes, its code point in *cp (the byte itself for
 * FDP_UTF8_INVALID) and its kind. Overlong forms, encoded surrogates, code
 * points above U+10FFFF and cut-short sequences are not UTF-8.
 */
size_t		 fdp_utf8_next(const char *s, uint32_t *cp,
		    enum fdp_utf8_kind *kind);

/* fdp_desc_print_json with "fd":fd as the first member (describe's). */
void		 fdp_desc_print_json_fd(FILE *f, int fd,
		    const struct fdp_desc *d);

/* Add a field to a description, after those fdp_describe() found. */
void		 fdp_desc_add(struct fdp_desc *d, const char *key,
		    enum fdp_field_type type, const char *value);

/* ---- procfd.c: another process's fds ---- */

struct fdp_proc_net;

/*
 * A process whose fds are described or copied, held by handle so that a
 * pid reused meanwhile is never taken for it: its /proc/PID directory and
 * a pidfd of it, opened in an order that ensures both are the same
 * process. This process itself (self) is looked at directly.
 */
struct fdp_proc {
	pid_t			 pid;
	int			 self;
	int			 dirfd;		/* /proc/PID; -1 for self */
	int			 pidfd;		/* -1 for self or when refused */
	int			 refused;	/* errno refusing every copy, or 0 */
	const char		*refused_by;	/* "pidfd_open" or "pidfd_getfd" */
	char			 why[224];	/* the refusal in a few words */
	struct fdp_proc_net	*net;		/* socket tables, once read */
};

/*
 * Open process pid (0: this process) into p, which then holds fds that
 * fdp_proc_close() closes. FDP_ESYS with errno ESRCH when there is no such
 * process, EINVAL when pid is a thread that does not lead its process
 * (p->pid then names the process).
 * A kernel without pidfd_open is no failure: copies are then refused.
 */
int		 fdp_proc_open(pid_t pid, struct fdp_proc *p);

/* Close what p holds. */
void		 fdp_proc_close(struct fdp_proc *p);

/* Whether p's process still runs (a zombie holds no fds: no). */
int		 fdp_proc_alive(const struct fdp_proc *p);

/*
 * The numbers of the fds p's process has open, in increasing order, in
 * *fds (free it); for self, without the one the listing itself used.
 * Returns how many, or FDP_ESYS (EACCES: ptrace rules forbid looking).
 */
int		 fdp_proc_fds(struct fdp_proc *p, int **fds);

/*
 * A copy of p's fd (pidfd_getfd(2)), close-on-exec, the caller's to close;
 * the process is not stopped, and its fd not touched. FDP_ESYS with errno
 * EBADF when fd is not open there, ESRCH when the process is gone, and
 * otherwise the refusal, which p->refused and p->why then keep for every
 * fd (EPERM: ptrace rules; ENOSYS: no pidfd_getfd).
 */
int		 fdp_proc_getfd(struct fdp_proc *p, int fd);

/*
 * Describe p's fd as fdp_describe() would: from a copy where one may be
 * had, else from /proc alone (fdp_describe_proc). FDP_ESYS with errno
 * EBADF when fd is not open there, ESRCH when the process is gone.
 */
int		 fdp_proc_describe(struct fdp_proc *p, int fd,
		    struct fdp_desc *d);

/*
 * One sentence saying why the kernel refused op (errno err) on p's process
 * and what would permit it: uids and gids, dumpability, Yama's
 * ptrace_scope (when attach: copying an fd, not reading /proc), our
 * CAP_SYS_PTRACE, or a kernel too old. Returns buf.
 */
const char	*fdp_proc_explain(const struct fdp_proc *p, const char *op,
		    int err, int attach, char *buf, size_t len);

/*
 * describe.c: p's fd num from /proc/PID alone, the fields only the fd
 * itself could give named in an "unread" field with why (the refusal).
 */
int		 fdp_describe_proc(struct fdp_proc *p, int num, const char *why,
		    struct fdp_desc *d);

/* ---- procinfo.c: /proc's tables about sockets and terminals ---- */

/* What the socket tables of a network namespace say about one socket. */
struct fdp_sock_facts {
	int			 family;
	int			 type;
	int			 protocol;
	int			 listening;
	int			 connected;	/* has a peer */
	struct sockaddr_storage	 local;
	struct sockaddr_storage	 peer;
	socklen_t		 local_len;	/* 0: none to show */
	socklen_t		 peer_len;
};

/*
 * Look up socket inode in the tables of p's network namespace
 * (/proc/PID/net: tcp, tcp6, udp, udp6, udplite, udplite6, unix), read
 * once per process for the sockets it holds. 0 if found, -1 if not.
 */
int		 fdp_proc_socket(struct fdp_proc *p, unsigned long inode,
		    struct fdp_sock_facts *s);

/* Free what fdp_proc_socket() kept. */
void		 fdp_proc_net_free(struct fdp_proc_net *net);

/* Whether a character device is a terminal, by /proc/tty/drivers. */
int		 fdp_tty_device(dev_t rdev);

/* ---- proto.c: the protocol ---- */

/* Whether name follows systemd's fd-name rules; 0 or FDP_S_BADNAME. */
int		 fdp_name_check(const char *name, size_t len);

/* A sentence for an FDP_S_* reply status. */
const char	*fdp_status_text(uint32_t status);

/*
 * A sentence for a reply's status, saying what is full when a FULL reply's
 * payload says it.
 */
const char	*fdp_reply_status_text(uint32_t status, const void *payload,
		    size_t len);

/* Fill in a header for a record of the current protocol version. */
void		 fdp_header_init(struct fdp_wire_header *h, uint16_t op,
		    uint32_t flags, uint32_t status);

/*
 * Check a received record's header: FDP_EPROTO if it is short or has the
 * wrong magic, FDP_EVERSION if its version is not ours. Copies the header
 * out (records need not be aligned) and returns 0.
 */
int		 fdp_header_check(const void *buf, size_t len,
		    struct fdp_wire_header *h);

/* A reply as a client receives it: the record, its header and its fds. */
struct fdp_reply {
	struct fdp_wire_header	 h;
	const unsigned char	*payload;	/* points into record */
	size_t			 len;		/* payload bytes */
	size_t			 nfds;		/* fds held in fds[] */
	int			 fds[FDP_MAX_FDS];
	unsigned char		 record[FDP_PROTO_MAX_RECORD];
};

/*
 * Connect to the broker (or a listening peer) at an address text, as a
 * client: a blocking SOCK_SEQPACKET socket.
 */
int		 fdp_client_connect(const char *address);

/*
 * Send one request (name may be NULL for none, at most 255 bytes; fds are
 * borrowed) and receive the first reply record into r, which then holds its fds. A version or
 * framing problem in the reply gives FDP_EVERSION / FDP_EPROTO with no fds
 * held. Returns 0 (look at r->h.status) or an FDP_E* code.
 */
int		 fdp_call(int sock, uint16_t op, uint32_t flags,
		    const char *name, const int *fds, size_t nfds,
		    struct fdp_reply *r);

/*
 * fdp_call for a request whose flags (FDP_F_TTL, FDP_F_WAIT) put a 32-bit
 * argument before the name; fdp_call sends none.
 */
int		 fdp_call_arg(int sock, uint16_t op, uint32_t flags,
		    uint32_t arg, const char *name, const int *fds, size_t nfds,
		    struct fdp_reply *r);

/*
 * Send one request as fdp_call_arg does (the argument only when flags carry
 * FDP_F_TTL or FDP_F_WAIT), without waiting for its answer: a client may
 * send several, then read their answers, in order, with fdp_reply_recv.
 * Returns 0 or an FDP_E* code.
 */
int		 fdp_send_request(int sock, uint16_t op, uint32_t flags,
		    uint32_t arg, const char *name, const int *fds, size_t nfds);

/*
 * Send one request whose payload is not a name (LOAD's entries), at most
 * FDP_PROTO_MAX_REQUEST bytes with its header (FDP_ETOOBIG past it),
 * without waiting for its answer. Returns 0 or an FDP_E* code.
 */
int		 fdp_send_payload(int sock, uint16_t op, uint32_t flags,
		    const void *payload, size_t len, const int *fds,
		    size_t nfds);

/*
 * Receive one reply record to op into rec (size bytes) and its fds, and
 * check it: header, op (or the FULL of a broker that refused the
 * connection, op FDP_OP_REPLY), and no fds on an error status. Returns the payload
 * length (the payload follows the header in rec), or FDP_ECLOSED,
 * FDP_EPROTO, FDP_EVERSION (h still says the peer's version) or another
 * FDP_E* code with no fd held.
 */
ssize_t		 fdp_record_recv(int sock, uint16_t op, void *rec, size_t size,
		    struct fdp_wire_header *h, int *fds, size_t *nfds);

/* Receive a further reply record of an answer sent as several. */
int		 fdp_reply_recv(int sock, uint16_t op, struct fdp_reply *r);

/* ---- activation.c: systemd's socket activation, the receiving side ---- */

/* Where inherited fds start (SD_LISTEN_FDS_START). */
#define FDP_LISTEN_FDS_START	3

/*
 * Take the fds this process inherited through LISTEN_FDS, as
 * sd_listen_fds_with_names(3) does, so that commands run by systemd (or by
 * systemd-socket-activate, or by fdpass exec) can use and pass them on.
 * Only when LISTEN_PID is our pid: the fds are FDP_LISTEN_FDS_START on,
 * now close-on-exec, and the caller holds them. *names gets one name per fd
 * (LISTEN_FDNAMES split at ':', or "unknown" for each when it is unset) in
 * one allocation: free(*names) frees all. Returns the number of fds (0 and
 * *names NULL when there are none for us), FDP_EENV when LISTEN_FDNAMES
 * does not name every fd or a fd is not open (the fds are left open), or
 * FDP_ESYS. LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES and LISTEN_PIDFDID are
 * removed from the environment in every case, so no program started later
 * mistakes them for its own.
 */
int		 fdp_listen_fds(char ***names);

/*
 * What fdp_listen_fds() would take, taking nothing: the same count and
 * names (or 0, FDP_EENV, FDP_ESYS), but the variables stay set and the fds
 * as they are, unchecked. describe shows what a program inherits with it.
 */
int		 fdp_listen_fds_peek(char ***names);

/* ---- notify.c: the service manager's notification protocol ---- */

/*
 * Connect a datagram socket to a service manager's notification socket:
 * address is what $NOTIFY_SOCKET holds, a path or "@abstract" (systemd's
 * "vsock:" addresses give FDP_ESYS with EAFNOSUPPORT, anything else
 * FDP_EADDR). Returns a close-on-exec, non-blocking fd to keep and send
 * every notification on, so a notification costs one sendmsg.
 */
int		 fdp_notify_connect(const char *address);

/*
 * Send one notification (sd_notify(3)): state is KEY=VALUE lines joined by
 * newlines, such as "READY=1\nSTATUS=serving", and the nfds borrowed fds
 * ride along with SCM_RIGHTS ("FDSTORE=1\nFDNAME=web"). Never waits: a
 * manager whose queue is full gives FDP_ESYS with EAGAIN. Returns 0 or an
 * FDP_E* code.
 */
int		 fdp_notify_send(int sock, const char *state, const int *fds,
		    size_t nfds);

#endif
