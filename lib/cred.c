/* cred.c: who is at the other end of a Unix socket. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fdpass.h"

/* The broker and its clients each need to know whom they talk to. */
int
fdp_peer_cred(int sock, struct fdp_cred *c)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return FDP_ESYS;
	c->pid = uc.pid;
	c->uid = uc.uid;
	c->gid = uc.gid;
	return 0;
}
