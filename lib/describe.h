/*
 * describe.h: what lib/describe*.c share to say what an fd is: the facts
 * gathered once per fd and the fields of a description; private to them.
 *
 * Every describer asks only what leaves the open file as it was: fstat,
 * fstatfs, fcntl's getters, getsockopt, getsockname, getpeername, FIONREAD,
 * mq_getattr, lseek(fd, 0, SEEK_CUR), readlink of /proc/self/fd/N and
 * /proc/self/fdinfo/N. Nothing reads from the fd, moves its offset or opens
 * its object a second time. Another process's fd that cannot be copied is
 * described from /proc/PID alone, naming the fields only the fd itself
 * could give (unread).
 */
#ifndef FDPASS_DESCRIBE_H
#define FDPASS_DESCRIBE_H

#include <sys/stat.h>

#include "fdpass.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What every kind's describer starts from, gathered once per fd. */
struct fd_facts {
	int		 fd;			/* -1: known from /proc alone */
	int		 flags;			/* F_GETFL */
	struct stat	 st;
	char		 link[PATH_MAX];	/* /proc/self/fd/N, or "" */
	struct fdp_proc	*proc;			/* whose fd num is; NULL: ours */
	int		 num;
	uintmax_t	 pos;			/* fdinfo's, when fd is -1 */
	char		*unread;		/* when fd is -1: keys not known */
};

/* Room for the keys an fd known from /proc alone leaves unread. */
#define UNREAD_MAX	128

/* A number the kernel uses and the word people use for it. */
struct code_name {
	int		 code;
	const char	*name;
};

/* A flag bit (or group of bits that must all be set) and its word. */
struct bit_name {
	unsigned int	 bits;
	const char	*name;
};

/* ---- describe.c: the facts of an fd, and the describer of its kind ---- */

/* Whether x can be asked; if not, keys join its unread list. */
int	can_ask(const struct fd_facts *x, const char *keys);

/* The fd's "fd" or "fdinfo" entry in /proc; the directory fd buf is under. */
int	proc_path(char *buf, size_t len, const char *dir,
	    const struct fd_facts *x);

/* ---- describe-field.c: the fields a description is made of ---- */

/* Add one field, printf-style; what would overflow d is left out. */
void	field_add(struct fdp_desc *d, const char *key,
	    enum fdp_field_type type, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* A text, a number, a yes/no, and a code as its word where one is known. */
void	field_str(struct fdp_desc *d, const char *key, const char *value);
void	field_uint(struct fdp_desc *d, const char *key, uintmax_t value);
void	field_bool(struct fdp_desc *d, const char *key, int value);
void	field_code(struct fdp_desc *d, const char *key,
	    const struct code_name *names, size_t n, int code);

/* Add word, or the words of the bits set, to a comma-separated list. */
void	list_append(char *list, size_t size, const char *word);
void	list_append_bits(char *list, size_t size, unsigned int bits,
	    const struct bit_name *names, size_t n);

/* The length of a /proc link without its " (deleted)". */
size_t	strip_deleted(const char *s);

/* What many kinds show: name and whether unlinked, inode, offset, flags. */
void	field_name(const struct fd_facts *x, const char *key,
	    struct fdp_desc *d);
void	field_inode(const struct fd_facts *x, struct fdp_desc *d);
void	field_offset(const struct fd_facts *x, struct fdp_desc *d);
void	field_flags(const struct fd_facts *x, struct fdp_desc *d);

/* ---- the describers of each kind ---- */

/* describe-file.c: files, memfds, message queues, dirs, pipes, devices. */
void	describe_regular(const struct fd_facts *x, struct fdp_desc *d);
void	describe_dir(const struct fd_facts *x, struct fdp_desc *d);
void	describe_pipe(const struct fd_facts *x, struct fdp_desc *d);
void	describe_device(const struct fd_facts *x, struct fdp_desc *d);

/* describe-socket.c: sockets, asked or from /proc's socket tables. */
void	describe_socket(const struct fd_facts *x, struct fdp_desc *d);

/* describe-fdinfo.c: a number from fdinfo's "key:" line; 0 if found. */
int	fdinfo_number(const struct fd_facts *x, const char *key, int base,
	    unsigned long long *number);

/* An anonymous inode, by its link: 1 if described, 0 if the link is none. */
int	describe_anon(const struct fd_facts *x, struct fdp_desc *d);

/* A kind without a name: its link and fdinfo. */
void	describe_unknown(const struct fd_facts *x, struct fdp_desc *d);

#endif
