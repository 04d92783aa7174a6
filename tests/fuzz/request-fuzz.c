/*
 * request-fuzz.c: a libFuzzer target for the broker's request decoding. The
 * first byte says how many fds arrived with the record (0 to 253 by its
 * value); the rest is the record. What decodes is then judged by a fixed set
 * of access rules, as the broker would, for a client of another uid.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include "broker/access.h"
#include "broker/request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rules every input is judged by, parsed once. */
static const struct access_policy *
fuzz_policy(void)
{
	static struct access_policy p;
	static int ready;
	char err[256];

	if (!ready) {
		p.owner = 0;
		if (access_rules_add(&p.allow, "uid=1000,ops=retrieve+list,"
		    "names=web*", err, sizeof(err)) == -1 ||
		    access_rules_add(&p.allow, "uid=1000,ops=delete,"
		    "names=web1", err, sizeof(err)) == -1 ||
		    access_rules_add(&p.allow, "gid=50,ops=store", err,
		    sizeof(err)) == -1 ||
		    access_rules_add(&p.allow, "uid=1000,ops=monitor", err,
		    sizeof(err)) == -1)
			abort();
		ready = 1;
	}
	return &p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdp_cred peer = { 1, 1000, 50 };
	struct request req;
	size_t nfds;

	if (size == 0 || size - 1 > REQUEST_MAX_LEN)
		return 0;
	nfds = data[0] % (FDP_MAX_FDS + 1);
	if (request_decode(data + 1, size - 1, nfds, FDP_S_OK, &req) ==
	    FDP_S_OK && access_check(fuzz_policy(), &peer, &req) == FDP_S_OK &&
	    req.invalid == FDP_S_OK && req.name == NULL &&
	    req.h.op != FDP_OP_LIST && req.h.op != FDP_OP_TAKEOVER)
		abort();	/* a request acted on always has its name */
	return 0;
}
