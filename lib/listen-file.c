/*
 * listen-file.c: the file system side of listeners: FIFOs, special files
 * and message queues, and for them and Unix sockets on a path the
 * directories, owner and symlinks their settings ask for, each noted as
 * made, and all undone when a later step (or command) fails.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

#define GIVEN(l, id)	LISTEN_GIVEN(l, id)

/* Remove the directories make_parents made for path, deepest first. */
void
listen_undo_parents(const char *path, size_t made)
{
	char dir[PATH_MAX];
	char *slash;
	int saved = errno;

	if (path == NULL || made == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) != NULL &&
	    (size_t)(slash - dir) >= made) {
		*slash = '\0';
		rmdir(dir);
	}
	errno = saved;
}

/*
 * Create the missing directories leading to path, DirectoryMode= each
 * (0755 by default), as systemd does. *made gets the length of the
 * shortest one made (0: none), for undo_parents.
 */
int
listen_make_parents(const struct fdp_listener *l, const char *path,
    size_t *made, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	mode_t mode = GIVEN(l, LS_DIRECTORY_MODE) ?
	    (mode_t)l->value[LS_DIRECTORY_MODE] : 0755, old;
	size_t i, n = strlen(path);
	int failed = 0;

	*made = 0;
	snprintf(dir, sizeof(dir), "%s", path);
	old = umask(0);
	for (i = 1; i < n && !failed; i++) {
		if (dir[i] != '/' || dir[i - 1] == '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, mode) == 0) {
			if (*made == 0)
				*made = i;
		} else if (errno != EEXIST)
			failed = 1;
		if (!failed)
			dir[i] = '/';
	}
	umask(old);
	if (!failed)
		return 0;
	listen_undo_parents(path, *made);
	*made = 0;
	return listen_error(err, errlen, FDP_ESYS, "creating directory %s: %s",
	    dir, strerror(errno));
}

/* The node's path as a symlink must name it: absolute. */
static int
symlink_target(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(buf, len, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	else
		n = snprintf(buf, len, "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Whether path already links to target, which Symlinks= accepts as systemd does. */
static int
links_to(const char *path, const char *target)
{
	char seen[PATH_MAX];
	ssize_t n = readlink(path, seen, sizeof(seen) - 1);

	if (n < 0)
		return 0;
	seen[n] = '\0';
	return strcmp(seen, target) == 0;
}

/* Symlinks= path i: made (or linking to target already), noted in l. */
static int
make_symlink(struct fdp_listener *l, size_t i, const char *target, char *err,
    size_t errlen)
{
	struct listen_symlink *link = &l->symlinks[i];
	int rc, e;

	if ((rc = listen_make_parents(l, link->path, &link->dirs, err,
	    errlen)) != 0)
		return rc;
	if (symlink(target, link->path) == 0) {
		link->made = 1;
		return 0;
	}
	e = errno;
	if (e == EEXIST && links_to(link->path, target))
		return 0;
	errno = e;
	return listen_error(err, errlen, FDP_ESYS, "Symlinks=%s: %s",
	    link->path, strerror(e));
}

/* Symlinks= : each path a symlink to the node, in order, until one fails. */
int
listen_make_symlinks(struct fdp_listener *l, char *err, size_t errlen)
{
	char target[PATH_MAX];
	size_t i;
	int rc = 0;

	if (l->nsymlinks == 0)
		return 0;
	if (symlink_target(l->path, target, sizeof(target)) == -1)
		return listen_sys_error(err, errlen, "Symlinks");
	for (i = 0; i < l->nsymlinks && rc == 0; i++)
		rc = make_symlink(l, i, target, err, errlen);
	return rc;
}

void
listen_note_node(struct fdp_listener *l)
{
	struct stat st;

	if (lstat(l->path, &st) == 0) {
		l->made_node = 1;
		l->node_dev = st.st_dev;
		l->node_ino = st.st_ino;
	}
}

/*
 * Everything fdp_listener_open made for l goes, newest first: each symlink
 * still linking to the node, the node while it is the file made (a queue
 * by its name), then the directories made, those left empty. What was
 * there before, or has taken a name since, stays.
 */
void
fdp_listener_undo(struct fdp_listener *l)
{
	char target[PATH_MAX];
	struct stat st;
	size_t i;
	int saved = errno, known;

	if (l == NULL || l->path == NULL)
		return;
	known = symlink_target(l->path, target, sizeof(target)) == 0;
	for (i = l->nsymlinks; i-- > 0;) {
		if (l->symlinks[i].made && known &&
		    links_to(l->symlinks[i].path, target))
			unlink(l->symlinks[i].path);
		listen_undo_parents(l->symlinks[i].path, l->symlinks[i].dirs);
		l->symlinks[i].made = 0;
		l->symlinks[i].dirs = 0;
	}
	if (l->made_node && l->kind == LK_MQUEUE)
		mq_unlink(l->path);
	else if (l->made_node && lstat(l->path, &st) == 0 &&
	    st.st_dev == l->node_dev && st.st_ino == l->node_ino)
		unlink(l->path);
	listen_undo_parents(l->path, l->made_dirs);
	l->made_node = 0;
	l->made_dirs = 0;
	errno = saved;
}

/* SocketUser=, SocketGroup= on a node just made: fd, or the path when fd is -1. */
int
listen_set_owner(const struct fdp_listener *l, int fd, char *err, size_t errlen)
{
	uid_t uid = GIVEN(l, LS_SOCKET_USER) ?
	    (uid_t)l->value[LS_SOCKET_USER] : (uid_t)-1;
	gid_t gid = GIVEN(l, LS_SOCKET_GROUP) ?
	    (gid_t)l->value[LS_SOCKET_GROUP] : (gid_t)l->user_gid;

	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		return 0;
	if ((fd >= 0 ? fchown(fd, uid, gid) : lchown(l->path, uid, gid)) == -1)
		return listen_setting_error(l, GIVEN(l, LS_SOCKET_USER) ?
		    LS_SOCKET_USER : LS_SOCKET_GROUP, err, errlen);
	return 0;
}

/* A FIFO or queue that was there already serves if it is what the settings ask. */
static int
check_existing(const struct fdp_listener *l, const struct stat *st,
    char *err, size_t errlen)
{
	gid_t gid = GIVEN(l, LS_SOCKET_GROUP) ?
	    (gid_t)l->value[LS_SOCKET_GROUP] : (gid_t)l->user_gid;

	errno = EEXIST;
	if (GIVEN(l, LS_SOCKET_MODE) &&
	    (st->st_mode & 07777) != (mode_t)l->value[LS_SOCKET_MODE])
		return listen_error(err, errlen, FDP_ESYS, "SocketMode=%s: %s is "
		    "there already with mode %04o", l->value_text[LS_SOCKET_MODE],
		    l->path, (unsigned int)(st->st_mode & 07777));
	if (GIVEN(l, LS_SOCKET_USER) &&
	    st->st_uid != (uid_t)l->value[LS_SOCKET_USER])
		return listen_error(err, errlen, FDP_ESYS, "SocketUser=%s: %s is "
		    "there already, owned by uid %u", l->value_text[LS_SOCKET_USER],
		    l->path, (unsigned int)st->st_uid);
	if (gid != (gid_t)-1 && st->st_gid != gid)
		return listen_error(err, errlen, FDP_ESYS, "SocketGroup: %s is "
		    "there already, group %u, not %u", l->path,
		    (unsigned int)st->st_gid, (unsigned int)gid);
	return 0;
}

/* Turn O_NONBLOCK, which kept open() from waiting, off again. */
static int
set_blocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags == -1 ? -1 : fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

/*
 * ListenFIFO=: made if missing (SocketMode=, or 0666 less the umask), opened
 * read-write.
 */
int
listen_open_fifo(struct fdp_listener *l, char *err, size_t errlen)
{
	struct stat st;
	mode_t old = 0;
	int fd = -1, rc;

	if ((rc = listen_make_parents(l, l->path, &l->made_dirs, err,
	    errlen)) != 0)
		return rc;
	if (GIVEN(l, LS_SOCKET_MODE))
		old = umask(0);
	rc = mkfifo(l->path, GIVEN(l, LS_SOCKET_MODE) ?
	    (mode_t)l->value[LS_SOCKET_MODE] : 0666);
	if (GIVEN(l, LS_SOCKET_MODE))
		umask(old);
	if (rc == 0)
		listen_note_node(l);
	else if (errno != EEXIST) {
		rc = listen_sys_error(err, errlen, "mkfifo");
		goto fail;
	}
	fd = open(l->path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    O_NOFOLLOW);
	if (fd == -1 || fstat(fd, &st) == -1) {
		rc = listen_sys_error(err, errlen, "open");
		goto fail;
	}
	if (!S_ISFIFO(st.st_mode)) {
		errno = EEXIST;
		rc = listen_error(err, errlen, FDP_ESYS, "%s is there already "
		    "and is not a FIFO", l->path);
		goto fail;
	}
	if ((!l->made_node && (rc = check_existing(l, &st, err, errlen)) != 0) ||
	    (l->made_node && (rc = listen_set_owner(l, fd, err, errlen)) != 0))
		goto fail;
	if (set_blocking(fd) == -1) {
		rc = listen_sys_error(err, errlen, "fcntl");
		goto fail;
	}
	if (GIVEN(l, LS_PIPE_SIZE) &&
	    fcntl(fd, F_SETPIPE_SZ, (int)l->value[LS_PIPE_SIZE]) == -1) {
		rc = listen_setting_error(l, LS_PIPE_SIZE, err, errlen);
		goto fail;
	}
	if ((rc = listen_make_symlinks(l, err, errlen)) != 0)
		goto fail;
	return fd;
fail:
	fdp_listener_undo(l);
	if (fd >= 0)
		listen_close(fd);
	return rc;
}

/* ListenSpecial=: a character device, or a file such as those in /proc, /sys. */
int
listen_open_special(const struct fdp_listener *l, char *err, size_t errlen)
{
	struct stat st;
	int writable = GIVEN(l, LS_WRITABLE) && l->value[LS_WRITABLE];
	int fd, rc = 0;

	fd = open(l->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd == -1)
		return listen_sys_error(err, errlen, "open");
	if (fstat(fd, &st) == -1 || set_blocking(fd) == -1)
		rc = listen_sys_error(err, errlen, "open");
	else if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode)) {
		errno = EINVAL;
		rc = listen_error(err, errlen, FDP_ESYS, "%s is not a special "
		    "file (a character device, or a file such as those in /proc "
		    "and /sys)", l->path);
	}
	if (rc != 0) {
		listen_close(fd);
		return rc;
	}
	return fd;
}

/* An existing queue must have the size asked for. */
static int
check_existing_queue(const struct fdp_listener *l, int fd, char *err,
    size_t errlen)
{
	struct mq_attr attr;
	struct stat st;
	int rc;

	if (fstat(fd, &st) == -1 || mq_getattr(fd, &attr) == -1)
		return listen_sys_error(err, errlen, "mq_getattr");
	if ((rc = check_existing(l, &st, err, errlen)) != 0)
		return rc;
	if (GIVEN(l, LS_MQ_MAX_MESSAGES) &&
	    (attr.mq_maxmsg != l->value[LS_MQ_MAX_MESSAGES] ||
	    attr.mq_msgsize != l->value[LS_MQ_MESSAGE_SIZE])) {
		errno = EEXIST;
		return listen_error(err, errlen, FDP_ESYS, "%s is there already "
		    "with MessageQueueMaxMessages=%ld, MessageQueueMessageSize="
		    "%ld", l->path, attr.mq_maxmsg, attr.mq_msgsize);
	}
	return 0;
}

/*
 * ListenMessageQueue=: created if missing, opened read-only as systemd
 * opens it. The kernel makes every queue descriptor close-on-exec.
 */
int
listen_open_mqueue(struct fdp_listener *l, char *err, size_t errlen)
{
	struct mq_attr attr, *sized = NULL;
	mode_t old = 0;
	int fd, rc;

	if (GIVEN(l, LS_MQ_MAX_MESSAGES)) {
		memset(&attr, 0, sizeof(attr));
		attr.mq_maxmsg = l->value[LS_MQ_MAX_MESSAGES];
		attr.mq_msgsize = l->value[LS_MQ_MESSAGE_SIZE];
		sized = &attr;
	}
	if (GIVEN(l, LS_SOCKET_MODE))
		old = umask(0);
	fd = mq_open(l->path, O_RDONLY | O_CREAT | O_EXCL, GIVEN(l,
	    LS_SOCKET_MODE) ? (mode_t)l->value[LS_SOCKET_MODE] : 0666, sized);
	if (fd >= 0)
		l->made_node = 1;
	else if (errno == EEXIST)
		fd = mq_open(l->path, O_RDONLY);
	if (GIVEN(l, LS_SOCKET_MODE))
		umask(old);
	if (fd == -1 && errno == EINVAL && sized != NULL)
		return listen_error(err, errlen, FDP_ESYS, "MessageQueueMax"
		    "Messages=%s, MessageQueueMessageSize=%s: %s (above "
		    "fs.mqueue.msg_max or msgsize_max needs CAP_SYS_RESOURCE)",
		    l->value_text[LS_MQ_MAX_MESSAGES],
		    l->value_text[LS_MQ_MESSAGE_SIZE], strerror(errno));
	if (fd == -1)
		return listen_sys_error(err, errlen, "mq_open");
	rc = l->made_node ? listen_set_owner(l, fd, err, errlen) :
	    check_existing_queue(l, fd, err, errlen);
	if (rc != 0) {
		fdp_listener_undo(l);
		listen_close(fd);
		return rc;
	}
	return fd;
}
