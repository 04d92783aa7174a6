/*
 * listen.h: what lib/listen-spec.c parses a listener spec into and
 * lib/listen.c creates from; private to those two files.
 */
#ifndef FDPASS_LISTEN_H
#define FDPASS_LISTEN_H

#include "fdpass.h"

/* What a spec makes: systemd's Listen*= settings, one kind each. */
enum listen_kind {
	LK_IP,		/* ListenStream=, ListenDatagram= on an IP address */
	LK_UNIX,	/* the same on a path or abstract name */
	LK_VSOCK,	/* the same on vsock:CID:PORT */
	LK_NETLINK,	/* ListenNetlink= */
	LK_FIFO,	/* ListenFIFO= */
	LK_SPECIAL,	/* ListenSpecial= */
	LK_MQUEUE	/* ListenMessageQueue= */
};

/* Classes of listener a setting applies to; a spec is in one or two. */
#define LC_IP_STREAM	0x0001	/* TCP, SCTP, MPTCP */
#define LC_IP_DGRAM	0x0002	/* UDP, UDP-Lite */
#define LC_UNIX_CONN	0x0004	/* Unix stream and seqpacket */
#define LC_UNIX_DGRAM	0x0008
#define LC_UNIX_PATH	0x0010	/* with a file (besides one of the two) */
#define LC_VSOCK_CONN	0x0020
#define LC_VSOCK_DGRAM	0x0040
#define LC_NETLINK	0x0080
#define LC_FIFO		0x0100
#define LC_SPECIAL	0x0200
#define LC_MQUEUE	0x0400

#define LC_IP		(LC_IP_STREAM | LC_IP_DGRAM)
#define LC_UNIX		(LC_UNIX_CONN | LC_UNIX_DGRAM)
#define LC_SOCKET	(LC_IP | LC_UNIX | LC_VSOCK_CONN | LC_VSOCK_DGRAM | \
			    LC_NETLINK)
#define LC_FILE		(LC_UNIX_PATH | LC_FIFO)

/* Every setting, in the order they are applied; index of listen_settings[]. */
enum listen_setting_id {
	LS_SOCKET_PROTOCOL,
	LS_NETNS_PATH,
	LS_BIND_IPV6_ONLY,
	LS_REUSE_PORT,
	LS_FREE_BIND,
	LS_TRANSPARENT,
	LS_BIND_TO_DEVICE,
	LS_MARK,
	LS_IP_TOS,	/* sets the priority too: Priority= comes after */
	LS_PRIORITY,
	LS_IP_TTL,
	LS_RECEIVE_BUFFER,
	LS_SEND_BUFFER,
	LS_BROADCAST,
	LS_PASS_CREDENTIALS,
	LS_PASS_SECURITY,
	LS_PASS_PACKET_INFO,
	LS_TIMESTAMPING,
	LS_NO_DELAY,
	LS_KEEP_ALIVE,
	LS_KEEP_ALIVE_TIME,
	LS_KEEP_ALIVE_INTERVAL,
	LS_KEEP_ALIVE_PROBES,
	LS_DEFER_ACCEPT,
	LS_TCP_CONGESTION,
	LS_BACKLOG,
	LS_SOCKET_MODE,
	LS_SOCKET_USER,
	LS_SOCKET_GROUP,
	LS_DIRECTORY_MODE,
	LS_SYMLINKS,
	LS_PIPE_SIZE,
	LS_MQ_MAX_MESSAGES,
	LS_MQ_MESSAGE_SIZE,
	LS_WRITABLE,
	LS_COUNT
};

/* How a setting's value is written. */
enum listen_value {
	LV_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	LV_NUMBER,	/* a decimal number from min to max */
	LV_SIZE,	/* bytes: 65536, 64K, 1.5M (base 1024, as systemd) */
	LV_SECONDS,	/* a time span (5, 1.5s, 500ms, 1h 30min) in whole
			   seconds, rounded down as systemd rounds; infinity:
			   the most the kernel takes */
	LV_SECONDS_INF_DEFAULT,	/* the same, but infinity leaves the
			   kernel's default, as 0 does (KeepAliveTimeSec=) */
	LV_MODE,	/* octal */
	LV_USER,	/* a user name or uid */
	LV_GROUP,	/* a group name or gid */
	LV_CHOICE,	/* one word of a list */
	LV_TOS,		/* a number, or one of IPTOS's words */
	LV_NAME,	/* an interface or congestion algorithm name */
	LV_PATH,
	LV_PATHS	/* paths separated by blanks; repeating appends */
};

/* One setting: its systemd name, how it is written, where it applies. */
struct listen_setting {
	const char		*name;
	enum listen_value	 type;
	unsigned int		 applies;	/* LC_* */
	long long		 min, max;	/* LV_NUMBER, LV_SIZE, LV_SECONDS* */
	const char *const	*choices;	/* LV_CHOICE: value is the index */
	int			 level, option;	/* a plain int setsockopt; option 0 if not */
	const char		*privilege;	/* what the kernel wants for it, or NULL */
};

extern const struct listen_setting listen_settings[LS_COUNT];

/* The values of BindIPv6Only=, Timestamping= and SocketProtocol=. */
enum { V6_DEFAULT, V6_BOTH, V6_ONLY };
enum { TS_OFF, TS_US, TS_USEC, TS_MICRO, TS_NS, TS_NSEC };
enum { SP_UDPLITE, SP_SCTP, SP_MPTCP };

/* A Symlinks= path, and what fdp_listener_open made for it. */
struct listen_symlink {
	const char		*path;
	size_t			 dirs;		/* see listen_make_parents */
	int			 made;		/* the symlink itself */
};

struct fdp_listener {
	enum listen_kind	 kind;
	unsigned int		 class;		/* LC_* */
	int			 socktype;
	int			 protocol;
	char			*text;		/* the spec, cut up; strings point here */
	const char		*host;		/* LK_IP: NULL for every address */
	const char		*port;		/* LK_IP: decimal, 0 to 65535 */
	const char		*path;		/* LK_UNIX path, FIFO, special, queue */
	struct fdp_addr		 unix_addr;	/* LK_UNIX */
	unsigned int		 vsock_cid, vsock_port;
	int			 netlink_family;
	unsigned int		 netlink_groups;
	unsigned long long	 given;		/* 1ULL << LS_* for each setting given */
	long long		 value[LS_COUNT];
	const char		*value_text[LS_COUNT];	/* as written */
	long long		 user_gid;	/* SocketUser='s group, or -1 */
	struct listen_symlink	*symlinks;
	size_t			 nsymlinks;
	/* What fdp_listener_open made for path, for fdp_listener_undo. */
	size_t			 made_dirs;	/* see listen_make_parents */
	int			 made_node;	/* the socket file, FIFO or queue */
	dev_t			 node_dev;	/* which file (not for a queue) */
	ino_t			 node_ino;
};

/* Whether setting id was given. */
#define LISTEN_GIVEN(l, id)	(((l)->given >> (id)) & 1)

/* Write one sentence to err and return code: every failure goes through here. */
int	listen_error(char *err, size_t errlen, int code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/*
 * listen-values.c: a decimal number from 0 to max, nothing else (no sign,
 * no blanks): 0, or -1.
 */
int	listen_parse_decimal(const char *s, unsigned long long max,
	    unsigned long long *v);

/* What listen_parse_value returns besides 0. */
#define LISTEN_VALUE_DEFAULT	1	/* nothing to set: systemd leaves
					   the kernel's default (0, infinity) */
#define LISTEN_VALUE_BAD	(-1)	/* not written as the setting takes it */
#define LISTEN_VALUE_NOMEM	(-2)
#define LISTEN_VALUE_RANGE	(-3)	/* well written, but past what the
					   kernel takes: *v holds it */

/* Parse value as setting s takes it into *v: 0 or a LISTEN_VALUE_* code. */
int	listen_parse_value(struct fdp_listener *l,
	    const struct listen_setting *s, char *value, long long *v);

/* What a value of setting s looks like, for a message. */
void	listen_value_hint(const struct listen_setting *s, char *buf,
	    size_t len);

/* Why v, read well for setting s, is out of range, for a message. */
void	listen_range_hint(const struct listen_setting *s, long long v,
	    char *buf, size_t len);

/* listen.c: close fd on an error path, errno kept. */
void	listen_close(int fd);

/* A step that failed with errno: "what: reason", FDP_ESYS. */
int	listen_sys_error(char *err, size_t errlen, const char *what);

/* Setting id the kernel refused (errno), as written, with what it needs. */
int	listen_setting_error(const struct fdp_listener *l, int id, char *err,
	    size_t errlen);

/*
 * listen-file.c: make the missing directories leading to path, mode
 * DirectoryMode= (0755 by default); *made gets what undo_parents needs.
 */
int	listen_make_parents(const struct fdp_listener *l, const char *path,
	    size_t *made, char *err, size_t errlen);

/* Remove the directories listen_make_parents made for path. */
void	listen_undo_parents(const char *path, size_t made);

/* Note the node just made at l->path, which fdp_listener_undo may remove. */
void	listen_note_node(struct fdp_listener *l);

/* SocketUser=, SocketGroup= on a node made: fd, or l->path when fd is -1. */
int	listen_set_owner(const struct fdp_listener *l, int fd, char *err,
	    size_t errlen);

/* Symlinks= to l->path, each noted in l as made; stops at a failure. */
int	listen_make_symlinks(struct fdp_listener *l, char *err,
	    size_t errlen);

/*
 * ListenFIFO=, ListenSpecial=, ListenMessageQueue=: the fd, or FDP_E*
 * with nothing left; what they make is noted in l.
 */
int	listen_open_fifo(struct fdp_listener *l, char *err, size_t errlen);
int	listen_open_special(const struct fdp_listener *l, char *err,
	    size_t errlen);
int	listen_open_mqueue(struct fdp_listener *l, char *err, size_t errlen);

#endif
