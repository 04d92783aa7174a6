#!/usr/bin/env bats
# Shell completion (completions/): bash, zsh and fish, each asked through its
# own completion machinery, offer every subcommand and every option the code
# accepts, names held by the broker the command line names, files, variables
# and signals where options take them. A shell that is not installed is
# skipped (./bootstrap installs all three).

load helpers

setup() {
	common_setup
	SRCDIR="${TESTS_SRCDIR:-$BATS_TEST_DIRNAME/..}/.."
	BUILDDIR=$(dirname "${FDPASS_REAL:-$FDPASS}")
	# The completions run `fdpass list` from PATH, and fish completes only
	# commands on it: the real fdpass, even where $FDPASS wraps it.
	PATH="$BUILDDIR:$PATH"
	BASH_DIR="$TMP/bash"
	mkdir -p "$BASH_DIR/completions"
	cp "$BUILDDIR/completions/bash/fdpass" "$BASH_DIR/completions/"
	ZSH_DIR="$BUILDDIR/completions/zsh"
	FISH_DIR="$BUILDDIR/completions/fish"
	unset XDG_RUNTIME_DIR
}

teardown() {
	stop_other_broker
	common_teardown
}

need_shell() {
	case $1 in
	bash) [ -f /usr/share/bash-completion/bash_completion ] ||
		skip "no bash-completion" ;;
	*) command -v "$1" >/dev/null || skip "no $1" ;;
	esac
}

# What SHELL offers at the end of LINE, one a line, sorted; fails when the
# shell does, or takes more than 30 s. For bash, LINE is split into words at
# blanks (a trailing blank starts a new word).
offered() {
	local shell=$1 line=$2 words out
	case $shell in
	bash)
		read -ra words <<<"$line"
		[[ $line != *' ' ]] || words+=("")
		out=$(timeout 30 "$BATS_TEST_DIRNAME/complete-bash" "$BASH_DIR" "${words[@]}") ;;
	zsh) out=$(timeout 30 "$BATS_TEST_DIRNAME/complete-zsh" "$ZSH_DIR" "$line") ;;
	fish) out=$(timeout 30 "$BATS_TEST_DIRNAME/complete-fish" "$FISH_DIR" "$line") ;;
	esac || return
	[ -z "$out" ] || sort -u <<<"$out"
}

# offered, at the default address: $XDG_RUNTIME_DIR/fdpass.sock.
offered_by_default() {
	unset FDPASS_SOCKET
	export XDG_RUNTIME_DIR="$TMP/run"
	offered "$@"
}

# Print what differs between the sorted lists $2 (what the code has) and
# $3 (what the completion offers), $1 naming them; nothing when they agree.
list_differences() {
	local missing extra
	missing=$(comm -23 <(grep . <<<"$2") <(grep . <<<"$3") | tr '\n' ' ')
	extra=$(comm -13 <(grep . <<<"$2") <(grep . <<<"$3") | tr '\n' ' ')
	[ -z "$missing" ] || echo "$1: the code has ${missing}but the completion lacks it"
	[ -z "$extra" ] || echo "$1: the completion offers ${extra}which the code lacks"
}

# The subcommands fdpass --help names, which must be those cmd/*.c export,
# and every option of each, against what SHELL offers; fails naming every
# difference.
check_in_step() {
	local shell=$1 help code cmd options differences
	need_shell "$shell"
	help=$("$FDPASS" --help | sed -n 's/^ *\(usage: \)\{0,1\}fdpass \([a-z][a-z-]*\).*/\2/p' | sort -u)
	code=$(python3 "$BATS_TEST_DIRNAME/code-options.py" "$SRCDIR/cmd") ||
		fail "cannot read the options from cmd/*.c"
	differences=$(
		list_differences "fdpass --help against cmd/*.c" "$help" \
		    "$(echo "$code" | cut -d ' ' -f 1 | sort)"
		list_differences "$shell: subcommands" "$help" "$(offered "$shell" 'fdpass ')"
		while read -r cmd options; do
			list_differences "$shell: fdpass $cmd" \
			    "$(echo "$options" | tr ' ' '\n' | sort)" \
			    "$(offered "$shell" "fdpass $cmd -" | grep '^-' | sed 's/=$//')"
		done <<<"$code"
	)
	[ -z "$differences" ] ||
		fail "$differences"$'\n'"(each subcommand and option needs its line in completions/fdpass.options)"
}

@test "bash offers every subcommand and every option the code has" {
	check_in_step bash
}

@test "zsh offers every subcommand and every option the code has" {
	check_in_step zsh
}

@test "fish offers every subcommand and every option the code has" {
	check_in_step fish
}

@test "the in-step check fails when an option is missing from the lists" {
	need_shell bash
	mkdir -p "$TMP/short/completions"
	grep -v -- '^--takeover' "$SRCDIR/completions/fdpass.options" >"$TMP/short.options"
	awk -v shell=bash -f "$SRCDIR/completions/gen.awk" "$TMP/short.options" \
	    "$SRCDIR/completions/fdpass.bash.in" >"$TMP/short/completions/fdpass"
	BASH_DIR="$TMP/short"
	run check_in_step bash
	assert_failure
	assert_output --partial "bash: fdpass serve: the code has --takeover but the completion lacks it"
}

# Start a second broker at $1 (so that a test can tell two brokers apart),
# stopping the one before.
start_other_broker() {
	stop_other_broker
	"$FDPASS" serve -s "$1" 3>&- 4>&- 5>&- &
	OTHER_PID=$!
	wait_for "$FDPASS" list -s "$1"
}

stop_other_broker() {
	[ -n "${OTHER_PID:-}" ] || return 0
	kill "$OTHER_PID"
	wait "$OTHER_PID" || :
	OTHER_PID=
}

check_names() {
	local shell=$1
	need_shell "$shell"
	start_broker
	"$FDPASS" send --file /etc/hostname alpha
	"$FDPASS" send --ttl 600 --file /etc/hostname beta
	"$FDPASS" send --file /etc/hostname other
	# $FDPASS_SOCKET: names, without the TTL list prints
	run offered "$shell" 'fdpass recv '
	assert_output "$(printf 'alpha\nbeta\nother')"
	run offered "$shell" 'fdpass delete alpha '
	assert_output "$(printf 'alpha\nbeta\nother')"
	run offered "$shell" 'fdpass exec --take b'
	assert_output beta
	# -s ADDR on the command line wins, in each of its forms
	start_other_broker "$TMP/other.sock"
	FDPASS_SOCKET="$TMP/other.sock" "$FDPASS" send --file /etc/hostname gamma
	run offered "$shell" "fdpass recv -s $TMP/other.sock "
	assert_output gamma
	run offered "$shell" "fdpass delete -vs $TMP/other.sock "
	assert_output gamma
	run offered "$shell" "fdpass recv --json --socket $TMP/other.sock --trust-uid 0 "
	assert_output gamma
	run offered "$shell" "fdpass exec -E FOO -s$TMP/other.sock "
	assert_output gamma
	# without -s or $FDPASS_SOCKET: $XDG_RUNTIME_DIR/fdpass.sock
	mkdir "$TMP/run"
	start_other_broker "$TMP/run/fdpass.sock"
	"$FDPASS" send -s "$TMP/run/fdpass.sock" --file /etc/hostname delta
	run offered_by_default "$shell" 'fdpass recv '
	assert_output delta
}

@test "bash completes held names from the broker the command line names" {
	check_names bash
}

@test "zsh completes held names from the broker the command line names" {
	check_names zsh
}

@test "fish completes held names from the broker the command line names" {
	check_names fish
}

# No broker, or one that never answers: no names, no message, no hang.
check_no_broker() {
	local shell=$1 hung
	need_shell "$shell"
	run --separate-stderr offered "$shell" 'fdpass recv '
	assert_success
	assert_output ""
	[ -z "$stderr" ] || fail "stderr: $stderr"
	run --separate-stderr offered_by_default "$shell" 'fdpass recv '
	assert_output ""
	[ -z "$stderr" ] || fail "stderr: $stderr"
	# a socket that accepts into its backlog and never answers
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(8); print("ready", flush=True); time.sleep(600)' \
	    "$FDPASS_SOCKET" >"$TMP/hung.out" 3>&- 4>&- 5>&- &
	OTHER_PID=$!
	wait_for grep -q ready "$TMP/hung.out"
	run --separate-stderr offered "$shell" 'fdpass delete '
	assert_success
	assert_output ""
	[ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "bash: no broker, or a broker that never answers, gives no names and no message" {
	check_no_broker bash
}

@test "zsh: no broker, or a broker that never answers, gives no names and no message" {
	check_no_broker zsh
}

@test "fish: no broker, or a broker that never answers, gives no names and no message" {
	check_no_broker fish
}

# Whether one line of $output is what the shell reads back as $1.
offered_as() {
	local line word
	while IFS= read -r line; do
		eval "word=$line"
		[ "$word" = "$1" ] && return 0
	done <<<"$output"
	fail "no quoted form of '$1' among: $output"
}

# Names are anyone's text (any printable ASCII but ':'), never code: one that
# looks like a command substitution is offered as it is and runs nothing.
check_hostile_names() {
	local shell=$1 evil='$(touch '"$TMP"'/pwned)' spaced='two words'
	need_shell "$shell"
	start_broker
	"$FDPASS" send --file /etc/hostname "$evil"
	"$FDPASS" send --file /etc/hostname "$spaced"
	run offered "$shell" 'fdpass recv '
	assert_success
	[ ! -e "$TMP/pwned" ] || fail "completing a name ran the command in it"
	case $shell in
	fish)	# the matches themselves; fish quotes what it inserts
		assert_line "$evil"
		assert_line "$spaced" ;;
	*)	# quoted for insertion: the shell reads them back as the names
		offered_as "$evil"
		offered_as "$spaced" ;;
	esac
	run offered "$shell" 'fdpass recv two'
	[ ! -e "$TMP/pwned" ] || fail "completing a name ran the command in it"
}

@test "bash offers a name holding \$(...) quoted and runs nothing" {
	check_hostile_names bash
}

@test "zsh offers a name holding \$(...) as it is and runs nothing" {
	check_hostile_names zsh
}

@test "fish offers a name holding \$(...) as it is and runs nothing" {
	check_hostile_names fish
}

# Files for the options and operands that take paths, a repeatable option
# again, exported variables for exec -E, and after "--" a command line of
# its own (fdpass's again).
check_arguments() {
	local shell=$1
	need_shell "$shell"
	mkdir "$TMP/dir"
	: >"$TMP/dir/rules-file"
	run offered "$shell" "fdpass serve --rules $TMP/dir/rules-f"
	assert_output --partial rules-file
	run offered "$shell" "fdpass transfer $TMP/dir/rul"
	assert_output --partial rules-file
	run offered "$shell" "fdpass send -f $TMP/dir/rul"
	assert_output --partial rules-file
	# an option that may come again is offered again
	run offered "$shell" "fdpass send -f $TMP/dir/rules-file --fi"
	assert_output --partial --file
	# an option that takes a word offers nothing, not files or names
	run offered "$shell" "fdpass serve --max-fds $TMP/dir/rul"
	assert_output ""
	export FDPASS_COMPLETION_TEST_VARIABLE=1
	run offered "$shell" 'fdpass exec -E FDPASS_COMPLETION_TEST_V'
	assert_output FDPASS_COMPLETION_TEST_VARIABLE
	run offered "$shell" 'fdpass exec web -- fdpas'
	assert_line fdpass
	run offered "$shell" 'fdpass exec web -- fdpass dele'
	assert_output delete
}

@test "bash completes files, variables and the command after --" {
	check_arguments bash
}

@test "zsh completes files, variables and the command after --" {
	check_arguments zsh
}

@test "fish completes files, variables and the command after --" {
	check_arguments fish
}

# run --stop-signal takes a signal: each shell offers the signal names.
@test "an option that takes a signal completes signal names in each shell" {
	local shell
	for shell in bash zsh fish; do
		[ "$shell" = bash ] && [ ! -f /usr/share/bash-completion/bash_completion ] && continue
		command -v "$shell" >/dev/null || continue
		run offered "$shell" 'fdpass run --stop-signal '
		assert_line TERM
		assert_line HUP
		assert_line USR1
		run offered "$shell" 'fdpass run --stop-signal US'
		assert_output "$(printf 'USR1\nUSR2')"
	done
}

@test "gen.awk refuses an option list it cannot express" {
	printf 'command x  y\n--foo  N:number  a kind that does not exist\n' >"$TMP/bad.options"
	run awk -v shell=bash -f "$SRCDIR/completions/gen.awk" "$TMP/bad.options" \
	    "$SRCDIR/completions/fdpass.bash.in"
	assert_failure
	assert_output --partial "argument 'N:number' is not - or LABEL:path|word|env|signal"
	printf -- '--foo  -  an option before any command\n' >"$TMP/bad.options"
	run awk -v shell=zsh -f "$SRCDIR/completions/gen.awk" "$TMP/bad.options" \
	    "$SRCDIR/completions/_fdpass.in"
	assert_failure
	assert_output --partial "before the first command or group"
}

@test "bash-completion loads the script by the command's name and complete -p shows it" {
	need_shell bash
	run bash -c '. /usr/share/bash-completion/bash_completion
		BASH_COMPLETION_USER_DIR=$1 __load_completion fdpass && complete -p fdpass' \
	    _ "$BASH_DIR"
	assert_success
	assert_output "complete -F _fdpass fdpass"
}
