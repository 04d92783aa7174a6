/*
 * access.h: who may use the broker, and for what. The broker's own uid and
 * root may do everything; anyone else only what an --allow SPEC or a line of
 * the --rules file grants.
 */
#ifndef FDPASS_ACCESS_H
#define FDPASS_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "fdpass.h"
#include "request.h"

/* Operations a rule grants, as the words of ops=. */
#define ACCESS_STORE	0x1
#define ACCESS_RETRIEVE	0x2
#define ACCESS_LIST	0x4
#define ACCESS_DELETE	0x8
#define ACCESS_GROUPS	0xf	/* the default: every op on groups */
#define ACCESS_STATUS	0x10	/* STATUS: granted only by name */
#define ACCESS_MONITOR	0x20	/* MONITOR: granted only by name */

/* One grant: a uid or a gid, the operations, and the names (fnmatch glob). */
struct access_rule {
	int		 by_gid;
	unsigned long	 id;
	unsigned	 ops;
	char		*names;
};

/* A list of grants; the policy keeps the command line's and the file's apart. */
struct access_rules {
	struct access_rule	*rule;
	size_t			 count;
};

struct access_policy {
	uid_t			 owner;		/* the broker's own uid */
	struct access_rules	 allow;		/* from --allow */
	struct access_rules	 file;		/* from --rules, reloaded on SIGHUP */
	const char		*path;		/* the --rules file, or NULL */
};

/*
 * Add the grant a SPEC describes; on a bad SPEC write why into err and
 * return -1 with the rules unchanged.
 */
int		 access_rules_add(struct access_rules *r, const char *spec,
		    char *err, size_t errlen);

/* Free every grant. */
void		 access_rules_free(struct access_rules *r);

/*
 * (Re)read the --rules file: one SPEC a line, blank lines and lines starting
 * with '#' ignored. On any error write "FILE:LINE: why" into err, return -1
 * and keep the rules the policy had.
 */
int		 access_policy_load(struct access_policy *p, char *err,
		    size_t errlen);

/* Free everything the policy holds. */
void		 access_policy_free(struct access_policy *p);

/*
 * The ACCESS_* bits a request with this op and these flags needs, every one
 * of them: STORE (FDP_F_REPLACE too) store, RETRIEVE retrieve, RETRIEVE with
 * FDP_F_TAKE retrieve and delete (it removes the group), DELETE delete, LIST
 * list, DUMP list and retrieve, LOAD store, STATUS status, MONITOR monitor.
 * 0 for an op no rule covers.
 */
unsigned	 access_request_ops(uint16_t op, uint32_t flags);

/*
 * Whether the peer may do ops (ACCESS_* bits, each granted by some rule) on
 * name (len bytes, not terminated); a NULL name asks whether the ops are
 * granted on any name. ops 0 is granted to the trusted only.
 */
int		 access_allows(const struct access_policy *p,
		    const struct fdp_cred *peer, unsigned ops, const char *name,
		    size_t len);

/*
 * The broker's own uid and root: they may do anything, take the broker over
 * included, whatever the rules say.
 */
int		 access_trusted(const struct access_policy *p,
		    const struct fdp_cred *peer);

/*
 * Whether the peer may make a decoded request: FDP_S_OK, or the status that
 * refuses it, FDP_S_TAKEOVER_DENIED for a takeover (no rule grants one) and
 * FDP_S_DENIED for anything else. LIST, DUMP and LOAD need their grants on
 * some name (the reply then shows, or stores, only the names they cover),
 * STATUS and MONITOR a grant of status or monitor, which name no group;
 * every other request
 * needs its ops on its name, or on some name when the name cannot be read
 * (request_decode left it NULL). The broker and the fuzz target both judge
 * requests here.
 */
uint32_t	 access_check(const struct access_policy *p,
		    const struct fdp_cred *peer, const struct request *req);

#endif
