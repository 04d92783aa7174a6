/*
 * access.c: the broker's access rules: --allow SPECs and the --rules file
 * parsed into grants, and the check every request passes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"

/* Where a name was looked for, when that is not what nsswitch.conf says. */
#ifdef FDPASS_STATIC
#define NSS_PASSWD_SOURCE " in /etc/passwd (a static fdpass reads no other " \
	"user database; uid=N needs none)"
#define NSS_GROUP_SOURCE " in /etc/group (a static fdpass reads no other " \
	"group database; gid=N needs none)"
#else
#define NSS_PASSWD_SOURCE ""
#define NSS_GROUP_SOURCE ""
#endif

static const struct {
	const char	*word;
	unsigned	 bit;
} access_op_words[] = {
	{ "store",	ACCESS_STORE },
	{ "retrieve",	ACCESS_RETRIEVE },
	{ "list",	ACCESS_LIST },
	{ "delete",	ACCESS_DELETE },
	{ "status",	ACCESS_STATUS },
	{ "monitor",	ACCESS_MONITOR },
};

/* ops=WORD+WORD...: the ACCESS_* bits, or 0 naming a bad word in err. */
static unsigned
access_parse_ops(char *list, char *err, size_t errlen)
{
	char *word, *save = NULL;
	unsigned ops = 0;
	size_t i, n = sizeof(access_op_words) / sizeof(access_op_words[0]);

	for (word = strtok_r(list, "+", &save); word != NULL;
	    word = strtok_r(NULL, "+", &save)) {
		for (i = 0; i < n; i++)
			if (strcmp(word, access_op_words[i].word) == 0)
				break;
		if (i == n) {
			snprintf(err, errlen, "unknown operation '%s' (store, "
			    "retrieve, list, delete, status, monitor)", word);
			return 0;
		}
		ops |= access_op_words[i].bit;
	}
	if (ops == 0)
		snprintf(err, errlen, "ops= names no operation");
	return ops;
}

/* uid=N, user=NAME, gid=N, group=NAME: who the rule is for; -1 if unknown. */
static int
access_parse_who(struct access_rule *rule, const char *key, const char *val,
    char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	char *end;

	rule->by_gid = strcmp(key, "gid") == 0 || strcmp(key, "group") == 0;
	if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
		errno = 0;
		rule->id = strtoul(val, &end, 10);
		if (*val < '0' || *val > '9' || *end != '\0' || errno != 0 ||
		    rule->id > 0xfffffffeUL) {
			snprintf(err, errlen, "%s=%s: not a number", key, val);
			return -1;
		}
		return 0;
	}
	fdp_nss_builtin_only();
	if (rule->by_gid) {
		if ((gr = getgrnam(val)) == NULL) {
			snprintf(err, errlen, "group=%s: no such group%s", val,
			    NSS_GROUP_SOURCE);
			return -1;
		}
		rule->id = gr->gr_gid;
		return 0;
	}
	if ((pw = getpwnam(val)) == NULL) {
		snprintf(err, errlen, "user=%s: no such user%s", val,
		    NSS_PASSWD_SOURCE);
		return -1;
	}
	rule->id = pw->pw_uid;
	return 0;
}

/* The keys a SPEC may hold, each at most once: a second would undo the first. */
enum access_key { KEY_OPS, KEY_NAMES, KEY_UID, KEY_USER, KEY_GID, KEY_GROUP };
static const char *const access_keys[] = {
	"ops", "names", "uid", "user", "gid", "group"
};
#define KEYS_WHO	(1u << KEY_UID | 1u << KEY_USER | 1u << KEY_GID | \
			 1u << KEY_GROUP)

/* Parse one SPEC (modified in place) into rule; -1 with err set. */
static int
access_parse_spec(char *spec, struct access_rule *rule, char *err,
    size_t errlen)
{
	char *item, *val, *save = NULL;
	unsigned seen = 0;
	int k, n = (int)(sizeof(access_keys) / sizeof(access_keys[0]));

	rule->ops = ACCESS_GROUPS;
	rule->names = NULL;
	for (item = strtok_r(spec, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((val = strchr(item, '=')) == NULL) {
			snprintf(err, errlen, "'%s' is not KEY=VALUE", item);
			return -1;
		}
		*val++ = '\0';
		for (k = 0; k < n && strcmp(item, access_keys[k]) != 0; k++)
			continue;
		if (k == n) {
			snprintf(err, errlen, "unknown key '%s' (uid, user, gid, "
			    "group, ops, names)", item);
			return -1;
		}
		if (seen & 1u << k) {
			snprintf(err, errlen, "%s= given twice", item);
			return -1;
		}
		if ((1u << k & KEYS_WHO) && (seen & KEYS_WHO)) {
			snprintf(err, errlen, "more than one of uid=, user=, "
			    "gid=, group=");
			return -1;
		}
		seen |= 1u << k;
		if (k == KEY_OPS) {
			if ((rule->ops = access_parse_ops(val, err, errlen)) == 0)
				return -1;
		} else if (k == KEY_NAMES) {
			if (*val == '\0') {
				snprintf(err, errlen, "names= is empty");
				return -1;
			}
			rule->names = val;
		} else if (access_parse_who(rule, item, val, err, errlen) == -1)
			return -1;
	}
	if ((seen & KEYS_WHO) == 0) {
		snprintf(err, errlen, "says whom it is for with none of uid=, "
		    "user=, gid=, group=");
		return -1;
	}
	return 0;
}

/* Every grant, from either source, is parsed here. */
int
access_rules_add(struct access_rules *r, const char *spec, char *err,
    size_t errlen)
{
	struct access_rule rule, *grown;
	char *copy;

	if ((copy = strdup(spec)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (access_parse_spec(copy, &rule, err, errlen) == -1) {
		free(copy);
		return -1;
	}
	rule.names = strdup(rule.names != NULL ? rule.names : "*");
	free(copy);
	if (rule.names == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	grown = realloc(r->rule, (r->count + 1) * sizeof(*r->rule));
	if (grown == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(rule.names);
		return -1;
	}
	r->rule = grown;
	r->rule[r->count++] = rule;
	return 0;
}

void
access_rules_free(struct access_rules *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		free(r->rule[i].names);
	free(r->rule);
	r->rule = NULL;
	r->count = 0;
}

/*
 * Read one line of the rules file into line (size bytes, the newline and a
 * CR before it dropped): 1, 0 at the end of the file, or -1 with err set
 * for a line too long or holding a NUL or another control character than
 * a tab, which a line that is text never holds.
 */
static int
access_read_line(FILE *f, char *line, size_t size, char *err, size_t errlen)
{
	size_t n = 0, i;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n + 1 == size) {
			snprintf(err, errlen, "line too long (at most %zu bytes)",
			    size - 1);
			return -1;
		}
		line[n++] = (char)c;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	if (c == EOF && n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (line[i] == '\0')
			snprintf(err, errlen, "a NUL byte at column %zu", i + 1);
		else if ((unsigned char)line[i] < ' ' && line[i] != '\t')
			snprintf(err, errlen, "a control character (0x%02x) at "
			    "column %zu", (unsigned char)line[i], i + 1);
		else
			continue;
		return -1;
	}
	return 1;
}

/* Read every line of the rules file into fresh rules; -1 with err set. */
static int
access_read_file(const char *path, struct access_rules *r, char *err,
    size_t errlen)
{
	char line[4096], why[512];
	size_t lineno = 0, n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		lineno++;
		if ((rc = access_read_line(f, line, sizeof(line), why,
		    sizeof(why))) != 1)
			break;
		n = strspn(line, " \t");
		if (line[n] != '\0' && line[n] != '#' &&
		    access_rules_add(r, line + n, why, sizeof(why)) == -1)
			rc = -1;
	} while (rc == 1);
	if (rc == -1)
		snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
	else if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}

/* A reload that fails keeps the old rules, so a typo never locks anyone out. */
int
access_policy_load(struct access_policy *p, char *err, size_t errlen)
{
	struct access_rules fresh = { NULL, 0 };

	if (p->path == NULL)
		return 0;
	if (access_read_file(p->path, &fresh, err, errlen) == -1) {
		access_rules_free(&fresh);
		return -1;
	}
	access_rules_free(&p->file);
	p->file = fresh;
	return 0;
}

void
access_policy_free(struct access_policy *p)
{
	access_rules_free(&p->allow);
	access_rules_free(&p->file);
}

unsigned
access_request_ops(uint16_t op, uint32_t flags)
{
	switch (op) {
	case FDP_OP_STORE:
		return ACCESS_STORE;
	case FDP_OP_RETRIEVE:
		return ACCESS_RETRIEVE |
		    ((flags & FDP_F_TAKE) != 0 ? ACCESS_DELETE : 0);
	case FDP_OP_DELETE:
		return ACCESS_DELETE;
	case FDP_OP_LIST:
		return ACCESS_LIST;
	case FDP_OP_DUMP:
		return ACCESS_LIST | ACCESS_RETRIEVE;
	case FDP_OP_LOAD:
		return ACCESS_STORE;
	case FDP_OP_STATUS:
		return ACCESS_STATUS;
	case FDP_OP_MONITOR:
		return ACCESS_MONITOR;
	default:
		return 0;
	}
}

/* Whether one list of grants lets the peer do op (one bit) on the name. */
static int
access_rules_allow(const struct access_rules *r, const struct fdp_cred *peer,
    unsigned op, const char *name)
{
	const struct access_rule *rule;
	size_t i;

	for (i = 0; i < r->count; i++) {
		rule = &r->rule[i];
		if (rule->id != (rule->by_gid ? (unsigned long)peer->gid :
		    (unsigned long)peer->uid) || (rule->ops & op) == 0)
			continue;
		if (name == NULL || fnmatch(rule->names, name, 0) == 0)
			return 1;
	}
	return 0;
}

int
access_trusted(const struct access_policy *p, const struct fdp_cred *peer)
{
	return peer->uid == 0 || peer->uid == p->owner;
}

int
access_allows(const struct access_policy *p, const struct fdp_cred *peer,
    unsigned ops, const char *name, size_t len)
{
	char buf[256];
	unsigned bit;

	if (access_trusted(p, peer))
		return 1;
	if (ops == 0)
		return 0;
	if (name != NULL) {
		if (len >= sizeof(buf))
			return 0;
		memcpy(buf, name, len);
		buf[len] = '\0';
		name = buf;
	}
	for (bit = 1; bit <= ops; bit <<= 1)
		if ((ops & bit) != 0 &&
		    !access_rules_allow(&p->allow, peer, bit, name) &&
		    !access_rules_allow(&p->file, peer, bit, name))
			return 0;
	return 1;
}

uint32_t
access_check(const struct access_policy *p, const struct fdp_cred *peer,
    const struct request *req)
{
	int ok;

	switch (req->h.op) {
	case FDP_OP_TAKEOVER:
		return access_trusted(p, peer) ? FDP_S_OK :
		    FDP_S_TAKEOVER_DENIED;
	case FDP_OP_LIST:
	case FDP_OP_DUMP:
	case FDP_OP_LOAD:
	case FDP_OP_STATUS:
	case FDP_OP_MONITOR:
		ok = access_allows(p, peer, access_request_ops(req->h.op, 0),
		    NULL, 0);
		break;
	default:
		ok = access_allows(p, peer, access_request_ops(req->h.op,
		    req->h.flags), req->name, req->len);
		break;
	}
	return ok ? FDP_S_OK : FDP_S_DENIED;
}
