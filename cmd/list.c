/* list.c: `fdpass list`, the names the broker holds, one a line, sorted. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* The names received so far, each NUL-terminated in one growing buffer. */
struct name_list {
	char	*text;
	size_t	 len;
	char	**names;
	size_t	 count;
};

/* Take the entries of one LIST reply record; FDP_EPROTO if they do not parse. */
static int
names_add(struct name_list *nl, const unsigned char *p, size_t len)
{
	struct fdp_wire_entry e;
	char *text;

	while (len > 0) {
		if (len < sizeof(e))
			return FDP_EPROTO;
		memcpy(&e, p, sizeof(e));
		if (e.name_len == 0 || e.name_len > 255 ||
		    len - sizeof(e) < e.name_len)
			return FDP_EPROTO;
		if ((text = realloc(nl->text, nl->len + e.name_len + 1)) == NULL)
			return FDP_ESYS;
		nl->text = text;
		memcpy(nl->text + nl->len, p + sizeof(e), e.name_len);
		nl->len += e.name_len;
		nl->text[nl->len++] = '\0';
		nl->count++;
		p += sizeof(e) + e.name_len;
		len -= sizeof(e) + e.name_len;
	}
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index the names, sort them and print them. */
static int
names_print(struct name_list *nl)
{
	size_t i;
	char *p = nl->text;

	if (nl->count > 0 &&
	    (nl->names = calloc(nl->count, sizeof(*nl->names))) == NULL)
		return FDP_ESYS;
	for (i = 0; i < nl->count; i++) {
		nl->names[i] = p;
		p += strlen(p) + 1;
	}
	if (nl->count > 1)
		qsort(nl->names, nl->count, sizeof(*nl->names), name_cmp);
	for (i = 0; i < nl->count; i++)
		puts(nl->names[i]);
	return fflush(stdout) == EOF ? FDP_ESYS : 0;
}

/* Read the LIST reply, which may come in several records, and print it. */
static int
list_names(int sock, struct fdp_reply *r)
{
	struct name_list nl = { NULL, 0, NULL, 0 };
	int rc;

	rc = fdp_call(sock, FDP_OP_LIST, 0, NULL, NULL, 0, r);
	while (rc == 0 && r->h.status == FDP_S_OK) {
		if ((rc = names_add(&nl, r->payload, r->len)) != 0)
			break;
		if ((r->h.flags & FDP_F_MORE) == 0) {
			rc = names_print(&nl);
			break;
		}
		rc = fdp_reply_recv(sock, FDP_OP_LIST, r);
	}
	free(nl.names);
	free(nl.text);
	return cmd_call_status("list", NULL, rc, r);
}

static const struct option list_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	CMD_TRUST_UID_OPTION,
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static int
list_run(int argc, char **argv)
{
	static struct fdp_reply r;
	const char *socket_opt = NULL;
	int ch, sock, status;

	while ((ch = getopt_long(argc, argv, "s:h", list_options, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_opt = optarg;
			break;
		case CMD_OPT_TRUST_UID:
			if (cmd_trust_uid("list", optarg) == -1)
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_usage(&cmd_list, stdout, 0);
		default:
			return cmd_usage(&cmd_list, stderr, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_list, stderr, EXIT_USAGE);
	if ((sock = cmd_connect("list", socket_opt, &status)) == -1)
		return status;
	status = list_names(sock, &r);
	close(sock);
	return status;
}

const struct cmd_entry cmd_list = {
	"list",
	"list [-s ADDR]\n"
	"Print the names the broker holds, one a line, sorted.\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	CMD_TRUST_UID_USAGE,
	list_run,
};
