#!/usr/bin/env bats
# The Debian package's source (debian/) against the rest of the tree: one
# version, configure.ac's AC_INIT (PACKAGE_VERSION, which fdpass --version
# prints), which debian/changelog's newest entry must name.

load helpers

setup() {
	common_setup
	SRCDIR="${TESTS_SRCDIR:-$BATS_TEST_DIRNAME/..}/.."
}

@test "debian/changelog's newest version is fdpass --version's" {
	[ -f "$SRCDIR/debian/changelog" ] || skip "no debian/ in this tree"
	changelog=$(sed -n '1s/^fdpass (\([^)]*\)).*/\1/p' "$SRCDIR/debian/changelog")
	[ -n "$changelog" ] || fail "debian/changelog does not start with fdpass (VERSION)"
	run "$FDPASS" --version
	assert_success
	assert_output --regexp "^fdpass $changelog \\(protocol [0-9]+\\)\$"
}
