#!/usr/bin/env bats
# What a client command pays at start-up (issue 7: the client path must not
# pay for what only the broker needs). configure links fdpass statically when
# it can, so that no dynamic loader runs; linked dynamically, fdpass still
# must not load the broker's libevent.

load helpers

@test "a static build has no dynamic loader" {
	case "${FDPASS_LINK:-}" in
	-static*) ;;
	*) skip "configure linked fdpass dynamically (--disable-static-binary)" ;;
	esac
	run readelf -lW "$FDPASS"
	assert_success
	assert_output --partial "LOAD"
	refute_output --partial "program interpreter"
	start_broker
	"$FDPASS" send web </dev/null
	run bash -c 'LD_DEBUG=libs "$FDPASS" list 2>&1'
	assert_success
	refute_output --partial "find library"
	assert_output --partial web
}

@test "a dynamic build's client commands do not load libevent" {
	case "${FDPASS_LINK:-}" in
	-static*) skip "configure linked fdpass statically" ;;
	*-Bstatic*) ;;
	*) skip "libevent is linked dynamically (--disable-static-libevent)" ;;
	esac
	start_broker
	"$FDPASS" send web </dev/null
	for cmd in "list" "recv web" "exec web -- true" "send --replace web"; do
		run bash -c 'LD_DEBUG=libs "$FDPASS" '"$cmd"' </dev/null 2>&1'
		assert_success
		assert_output --partial "libc.so"
		refute_output --partial libevent
	done
}
