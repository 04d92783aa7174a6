/*
 * describe-field.c: the fields a description is made of: each added within
 * the description's fixed room, and those many kinds share.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "describe.h"

static const struct bit_name open_flag_names[] = {
	{ O_APPEND, "append" }, { O_NONBLOCK, "nonblock" },
	{ O_SYNC, "sync" }, { O_DIRECT, "direct" },
	{ O_NOATIME, "noatime" }, { O_PATH, "path" },
};

/* Every fact goes through here, so neither arena nor field table overflows. */
void
field_add(struct fdp_desc *d, const char *key, enum fdp_field_type type,
    const char *fmt,
    ...)
{
	char *value = d->text + d->used;
	size_t room = sizeof(d->text) - d->used;
	va_list ap;
	int n;

	if (d->nfields >= FDP_DESC_MAX_FIELDS || room == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(value, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (type != FDP_FIELD_STRING && (size_t)n >= room)) {
		*value = '\0';
		return;
	}
	d->used += (size_t)n < room ? (size_t)n + 1 : room;
	d->fields[d->nfields].key = key;
	d->fields[d->nfields].value = value;
	d->fields[d->nfields].type = type;
	d->nfields++;
}

/* Most facts are plain text. */
void
field_str(struct fdp_desc *d, const char *key, const char *value)
{
	field_add(d, key, FDP_FIELD_STRING, "%s", value);
}

/* Sizes, counts, ids and inode numbers. */
void
field_uint(struct fdp_desc *d, const char *key, uintmax_t value)
{
	field_add(d, key, FDP_FIELD_NUMBER, "%ju", value);
}

/* Yes/no facts. */
void
field_bool(struct fdp_desc *d, const char *key, int value)
{
	field_add(d, key, FDP_FIELD_BOOLEAN, "%s", value ? "yes" : "no");
}

/* Families, types, protocols and clocks print as words where one is known. */
void
field_code(struct fdp_desc *d, const char *key, const struct code_name *names,
    size_t n, int code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i].code == code) {
			field_str(d, key, names[i].name);
			return;
		}
	field_add(d, key, FDP_FIELD_STRING, "%d", code);
}

/* Flag and seal lists are words joined by commas. */
void
list_append(char *list, size_t size, const char *word)
{
	size_t n = strlen(list);

	if (n < size)
		snprintf(list + n, size - n, "%s%s", n > 0 ? "," : "", word);
}

/* Open flags and seals are both bit sets named word by word. */
void
list_append_bits(char *list, size_t size, unsigned int bits,
    const struct bit_name *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((bits & names[i].bits) == names[i].bits)
			list_append(list, size, names[i].name);
}

/* Links of unlinked files end in " (deleted)"; the length without it. */
size_t
strip_deleted(const char *s)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(s);
	size_t slen = sizeof(suffix) - 1;

	if (n >= slen && strcmp(s + n - slen, suffix) == 0)
		return n - slen;
	return n;
}

/* Anything named in a filesystem: its path or name, and whether unlinked. */
void
field_name(const struct fd_facts *x, const char *key, struct fdp_desc *d)
{
	int deleted = x->st.st_nlink == 0;
	size_t n = deleted ? strip_deleted(x->link) : strlen(x->link);

	field_add(d, key, FDP_FIELD_STRING, "%.*s", (int)n, x->link);
	field_bool(d, "deleted", deleted);
}

/* Where a file lives: inode number and the filesystem's device. */
void
field_inode(const struct fd_facts *x, struct fdp_desc *d)
{
	field_uint(d, "inode", x->st.st_ino);
	field_add(d, "dev", FDP_FIELD_STRING, "%u:%u", major(x->st.st_dev),
	    minor(x->st.st_dev));
}

/* The file position, asked without moving it; O_PATH fds have none. */
void
field_offset(const struct fd_facts *x, struct fdp_desc *d)
{
	off_t offset;

	if (x->fd == -1)
		field_uint(d, "offset", x->pos);
	else if ((offset = lseek(x->fd, 0, SEEK_CUR)) != -1)
		field_uint(d, "offset", (uintmax_t)offset);
}

/* The access mode and the open flags that matter, e.g. "rdwr,append". */
void
field_flags(const struct fd_facts *x, struct fdp_desc *d)
{
	static const char *const access_names[] = {
		"rdonly", "wronly", "rdwr", "noaccess",
	};
	char list[128];

	snprintf(list, sizeof(list), "%s", access_names[x->flags & O_ACCMODE]);
	list_append_bits(list, sizeof(list), (unsigned int)x->flags,
	    open_flag_names, NELEM(open_flag_names));
	field_str(d, "flags", list);
}

/* describe adds what it knows besides the fd itself: the fd's name. */
void
fdp_desc_add(struct fdp_desc *d, const char *key, enum fdp_field_type type,
    const char *value)
{
	field_add(d, key, type, "%s", value);
}
