/*
 * list.c: `fdpass list`, the groups the broker holds, sorted by name: their
 * names, time left, and with --long or --json what each fd is.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* One LIST entry; name is an offset into the name text until sorting. */
struct list_entry {
	size_t		 name_off;
	const char	*name;
	uint16_t	 nfds;
	uint32_t	 expires_in;
};

/*
 * The entries received so far; names NUL-terminated in one buffer. Both
 * arrays double as they fill, so a list of many groups costs a few
 * reallocations, not one per entry.
 */
struct name_list {
	char			*text;
	size_t			 len;
	size_t			 text_room;
	struct list_entry	*entries;
	size_t			 count;
	size_t			 entries_room;
};

/* What list prints. */
struct list_how {
	int	long_form;	/* --long: describe each fd */
	int	json;
};

/* Keep one entry (cmd_list_each's fn); FDP_ESYS when out of memory. */
static int
entry_add(const struct fdp_wire_entry *e, const char *name, void *arg)
{
	struct name_list *nl = arg;
	struct list_entry *entries;
	char *text;
	size_t room;

	if (nl->len + e->name_len + 1 > nl->text_room) {
		room = 2 * (nl->len + e->name_len + 1) + 4096;
		if ((text = realloc(nl->text, room)) == NULL)
			return FDP_ESYS;
		nl->text = text;
		nl->text_room = room;
	}
	if (nl->count == nl->entries_room) {
		room = 2 * nl->entries_room + 64;
		entries = realloc(nl->entries, room * sizeof(*entries));
		if (entries == NULL)
			return FDP_ESYS;
		nl->entries = entries;
		nl->entries_room = room;
	}
	entries = nl->entries;
	entries[nl->count].name_off = nl->len;
	entries[nl->count].nfds = e->nfds;
	entries[nl->count++].expires_in = e->expires_in;
	memcpy(nl->text + nl->len, name, e->name_len);
	nl->len += e->name_len;
	nl->text[nl->len++] = '\0';
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->name,
	    ((const struct list_entry *)b)->name);
}

/* What entry_print did with an entry, besides an FDP_E* code. */
#define ENTRY_PRINTED	0
#define ENTRY_GONE	1	/* deleted since the LIST: left out */
#define ENTRY_REFUSED	2	/* the broker refused its RETRIEVE: r says why */

/*
 * --long and --json --long describe each group's fds, fetched with a
 * RETRIEVE; a group gone since the LIST is left out, and one the broker's
 * rules let us list but not retrieve is printed without its fds. In JSON,
 * first says whether no element came before this one. Returns an ENTRY_*
 * value or an FDP_E* code.
 */
static int
entry_print(int sock, const struct list_entry *e, const struct list_how *how,
    int first, struct fdp_reply *r)
{
	unsigned nfds = e->nfds;
	int rc, described = 0;

	r->nfds = 0;
	if (how->long_form) {
		rc = cmd_call("list", sock, FDP_OP_RETRIEVE, 0, 0, e->name,
		    NULL, 0, r);
		if (rc == 0 && r->h.status == FDP_S_NOENT)
			return ENTRY_GONE;
		if (rc != 0)
			return rc;
		if (r->h.status != FDP_S_OK && r->h.status != FDP_S_DENIED)
			return ENTRY_REFUSED;
		if ((described = r->h.status == FDP_S_OK))
			nfds = (unsigned)r->nfds;	/* as stored now */
	}
	if (how->json) {
		fputs(first ? "\n" : ",\n", stdout);
		cmd_print_group_json(e->name, nfds, described ? r->fds : NULL,
		    &e->expires_in);
	} else {
		fputs(e->name, stdout);
		if (how->long_form)
			printf("\tfds=%u", nfds);
		if (e->expires_in > 0)
			printf("%sexpires_in=%u", how->long_form ? " " : "\t",
			    (unsigned)e->expires_in);
		putchar('\n');
		cmd_print_fds(r->fds, r->nfds, "\t");
	}
	fdp_close_fds(r->fds, r->nfds);
	return ENTRY_PRINTED;
}

/* Sort the entries by name and print them; an ENTRY_* value or FDP_E*. */
static int
names_print(int sock, struct name_list *nl, const struct list_how *how,
    struct fdp_reply *r)
{
	size_t i, printed = 0;
	int rc = ENTRY_PRINTED;

	for (i = 0; i < nl->count; i++)
		nl->entries[i].name = nl->text + nl->entries[i].name_off;
	if (nl->count > 0)
		qsort(nl->entries, nl->count, sizeof(*nl->entries), entry_cmp);
	if (how->json)
		putchar('[');
	for (i = 0; i < nl->count; i++) {
		rc = entry_print(sock, &nl->entries[i], how, printed == 0, r);
		if (rc == ENTRY_PRINTED)
			printed++;
		else if (rc != ENTRY_GONE)
			break;
	}
	if (rc == ENTRY_GONE)
		rc = ENTRY_PRINTED;
	if (how->json)
		fputs(printed > 0 ? "\n]\n" : "]\n", stdout);
	if (rc == ENTRY_PRINTED && fflush(stdout) == EOF)
		rc = FDP_ESYS;
	return rc;
}

/* Read the LIST reply, which may come in several records, and print it. */
static int
list_names(int sock, const struct list_how *how, struct fdp_reply *r)
{
	struct name_list nl = { NULL, 0, 0, NULL, 0, 0 };
	int rc, done = 0;

	rc = cmd_list_each("list", sock, r, entry_add, &nl);
	if (rc == 0 && r->h.status == FDP_S_OK)
		done = (rc = names_print(sock, &nl, how, r)) == ENTRY_PRINTED;
	free(nl.entries);
	free(nl.text);
	if (done)
		return 0;
	return cmd_call_status("list", NULL, rc == ENTRY_REFUSED ? 0 : rc, r);
}

static const struct option list_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "long",	no_argument,		NULL,	'l' },
	{ "json",	no_argument,		NULL,	'j' },
	CMD_COMMON_OPTIONS
};

static int
list_run(int argc, char **argv)
{
	static struct fdp_reply r;
	struct list_how how = { 0, 0 };
	const char *socket_opt = NULL;
	int ch, sock, status;

	while ((ch = getopt_long(argc, argv, "s:ljvh", list_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'l':
			how.long_form = 1;
			break;
		case 'j':
			how.json = 1;
			break;
		default:
			if ((status = cmd_common_option(&cmd_list, ch, optarg,
			    &socket_opt)) != -1)
				return status;
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_list, stderr, EXIT_USAGE);
	if ((sock = cmd_connect("list", socket_opt, &status)) == -1)
		return status;
	status = list_names(sock, &how, &r);
	close(sock);
	return status;
}

const struct cmd_entry cmd_list = {
	"list",
	"list [-v] [-s ADDR] [--long] [--json]\n"
	"Print the names the broker holds, one a line, sorted; a group with a\n"
	"TTL gets a tab and expires_in=SECONDS (the time left).\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	"  -l, --long         also the fd count and a line describing each fd\n"
	"  -j, --json         print a JSON array of groups (see fdpass(1))\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	CMD_TRUST_UID_USAGE,
	list_run,
};
