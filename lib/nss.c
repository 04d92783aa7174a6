/* nss.c: where a static fdpass looks up users, groups and hosts. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifdef FDPASS_STATIC
#include <nss.h>
#endif

#include "fdpass.h"

/*
 * A static glibc that loads an NSS module (libnss_systemd, say) loads a
 * second libc with it and may crash, so a static fdpass looks names up only
 * in the sources built into libc: /etc/passwd, /etc/group, /etc/hosts and
 * DNS. A dynamic fdpass follows nsswitch.conf. Called before each lookup
 * rather than at start, so that a command that looks up no name does not
 * read nsswitch.conf.
 */
void
fdp_nss_builtin_only(void)
{
#ifdef FDPASS_STATIC
	static int done;

	if (done)
		return;
	done = 1;
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("hosts", "files dns");
#endif
}
