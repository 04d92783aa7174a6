#!/usr/bin/env bats
# Failures between client and broker: each gets a clear message and exit status.

load helpers

@test "no broker listening: every client fails at once" {
	for cmd in "list" "recv web" "send web" "exec web -- true"; do
		run timeout 5 "$FDPASS" $cmd
		assert_failure 3
		assert_output --partial "cannot reach the broker at $FDPASS_SOCKET"
	done
	export FDPASS_SOCKET="@fdpass-none-$$"
	run timeout 5 "$FDPASS" list
	assert_failure 3
	assert_output --partial "Connection refused"
}

@test "a socket path too long is a usage error" {
	long="$TMP/$(printf 'x%.0s' {1..120})"
	run "$FDPASS" list -s "$long"
	assert_failure 2
	assert_output --partial "address too long"
	run "$FDPASS" send -s "@$(printf 'x%.0s' {1..108})" web
	assert_failure 2
	assert_output --partial "address too long"
	FDPASS_SOCKET="/$(printf 'x%.0s' {1..5000})" run "$FDPASS" list
	assert_failure 2
	assert_output "fdpass: list: the broker address: address too long (at most 107 bytes, for a path or after @)"
	FDPASS_SOCKET="/$(printf 'x%.0s' {1..5000})" run "$FDPASS" serve
	assert_failure 2
	assert_output --partial "the broker address: address too long"
}

@test "a broker that dies mid-request gives a clear error" {
	coproc PEERPROC { exec python3 "$PEER" die-mid-request "$FDPASS_SOCKET"; }
	read -r -t 10 _ <&"${PEERPROC[0]}"
	run timeout 10 "$FDPASS" send --file /etc/hostname web
	assert_failure 3
	assert_output "fdpass: send: the broker closed the connection before answering"
}

@test "a broker speaking another protocol version is refused clearly" {
	coproc PEERPROC { exec python3 "$PEER" other-version "$FDPASS_SOCKET"; }
	read -r -t 10 _ <&"${PEERPROC[0]}"
	run timeout 10 "$FDPASS" list
	assert_failure 3
	assert_output "fdpass: list: the broker speaks protocol version 99, this fdpass speaks 2"
}

@test "usage errors exit 2 with the command's usage" {
	run "$FDPASS"
	assert_failure 2
	run "$FDPASS" recv
	assert_failure 2
	assert_output --partial "usage: fdpass recv"
	run "$FDPASS" recv a b
	assert_failure 2
	run "$FDPASS" list extra
	assert_failure 2
	run "$FDPASS" send
	assert_failure 2
	assert_output --partial "usage: fdpass send"
}
