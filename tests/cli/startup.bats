#!/usr/bin/env bats
# What a client command pays at start-up: the broker's libevent is linked in,
# never loaded by the dynamic loader (issue 7: the client path must not pay
# for what only the broker needs).

load helpers

@test "client commands do not load libevent" {
	case "${FDPASS_LINK:-}" in
	*-static*|*-Bstatic*) ;;
	*) skip "libevent is linked dynamically (--disable-static-libevent)" ;;
	esac
	start_broker
	"$FDPASS" send web </dev/null
	for cmd in "list" "recv web" "exec web -- true" "send --replace web"; do
		run bash -c 'LD_DEBUG=libs "$FDPASS" '"$cmd"' </dev/null 2>&1'
		assert_success
		refute_output --partial libevent
	done
}
