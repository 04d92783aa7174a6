# gen.awk: one shell's completion script for fdpass, from the option lists
# in completions/fdpass.options and that shell's template. Usage:
#   awk -v shell=bash|zsh|fish -f gen.awk fdpass.options TEMPLATE
# prints TEMPLATE with its line "@OPTIONS@" replaced by the lists, written
# in the shell's own terms (indented as the marker is).

BEGIN {
	if (shell != "bash" && shell != "zsh" && shell != "fish")
		fail("shell=bash, zsh or fish")
	nkinds = split("path word env signal", kindlist, " ")
	for (i = 1; i <= nkinds; i++)
		kinds[kindlist[i]] = 1
}

function fail(msg) {
	printf "gen.awk: %s%s\n", (FILENAME == "" ? "" : FILENAME ":" FNR ": "), msg \
	    > "/dev/stderr"
	failed = 1
	exit 1
}

# What follows the first n fields of the line: a description.
function rest(n,	s) {
	s = $0
	while (n-- > 0)
		sub(/^[ \t]*[^ \t]+/, "", s)
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# Add an option to list l (a subcommand or a group); forms starting with *
# may be given more than once.
function add_option(l, forms, arg, desc,	n, parts) {
	n = ++nopts[l]
	orepeat[l, n] = sub(/^\*/, "", forms)
	oforms[l, n] = forms
	odesc[l, n] = desc
	ooptional[l, n] = sub(/^=/, "", arg)
	if (arg == "-") {
		okind[l, n] = olabel[l, n] = ""
		if (ooptional[l, n])
			fail("an optional argument needs LABEL:KIND")
		return
	}
	if (split(arg, parts, ":") != 2 || !(parts[2] in kinds))
		fail("argument '" arg "' is not - or LABEL:path|word|env|signal")
	olabel[l, n] = parts[1]
	okind[l, n] = parts[2]
}

FNR == NR {
	if (/^[ \t]*(#|$)/)
		next
	if ($1 == "command") {
		list = $2
		commands[++ncommands] = list
		cdesc[list] = rest(2)
	} else if ($1 == "group") {
		list = "group " $2
	} else if (list == "") {
		fail("'" $1 "' before the first command or group")
	} else if ($1 == "use") {
		g = "group " $2
		if (!(g in nopts))
			fail("no group '" $2 "' above")
		for (i = 1; i <= nopts[g]; i++)
			add_option(list, (orepeat[g, i] ? "*" : "") oforms[g, i],
			    (ooptional[g, i] ? "=" : "") \
			    (okind[g, i] == "" ? "-" : olabel[g, i] ":" okind[g, i]),
			    odesc[g, i])
	} else if ($1 == "operands") {
		if ($2 != "names" && $2 != "paths")
			fail("operands are names or paths")
		operands[list] = $2
	} else if ($1 == "command-after-dashdash") {
		dashdash[list] = 1
	} else if ($1 ~ /^\*?-/ && NF >= 3) {
		add_option(list, $1, $2, rest(2))
	} else {
		fail("not an option line: " $0)
	}
	next
}

/^[ \t]*@OPTIONS@[ \t]*$/ {
	indent = $0
	sub(/@OPTIONS@.*/, "", indent)
	if (shell == "bash")
		bash_tables()
	else if (shell == "zsh")
		zsh_tables()
	else
		fish_tables()
	done = 1
	next
}

{ print }

END {
	if (!failed && !done)
		fail("no @OPTIONS@ line in the template")
	if (failed)
		exit 1
}

function out(s) {
	print (s == "" ? "" : indent s)
}

# Every form of every option of subcommand c, space-separated.
function all_forms(c,	i, s) {
	s = ""
	for (i = 1; i <= nopts[c]; i++)
		s = s (s == "" ? "" : " ") oforms[c, i]
	gsub(/,/, " ", s)
	return s
}

# "CMD:FORM" for every form of every option of subcommand c that takes an
# argument of kind k in the next word, joined by sep: a case pattern.
function argument_patterns(c, k, sep,	j, n, nf, f, pat) {
	pat = ""
	for (j = 1; j <= nopts[c]; j++) {
		if (okind[c, j] != k || ooptional[c, j])
			continue
		nf = split(oforms[c, j], f, ",")
		for (n = 1; n <= nf; n++)
			pat = pat (pat == "" ? "" : sep) c ":" f[n]
	}
	return pat
}

# The bash tables: functions that set REPLY, so that nothing but functions
# is left in the user's shell.
function bash_tables(	i, c, k, pat, s) {
	s = ""
	for (i = 1; i <= ncommands; i++)
		s = s (i > 1 ? " " : "") commands[i]
	out("_fdpass_commands='" s "'")
	out("")
	out("# _fdpass_options CMD: REPLY is every form of every option CMD takes.")
	out("_fdpass_options() {")
	out("\tcase $1 in")
	for (i = 1; i <= ncommands; i++)
		out("\t" commands[i] ") REPLY='" all_forms(commands[i]) "' ;;")
	out("\t*) REPLY= ;;")
	out("\tesac")
	out("}")
	out("")
	out("# _fdpass_argument CMD OPTION: REPLY is the kind of argument OPTION of")
	out("# CMD takes in the next word (path, word, env, signal), or empty.")
	out("_fdpass_argument() {")
	out("\tcase $1:$2 in")
	for (k = 1; k <= nkinds; k++)
		for (i = 1; i <= ncommands; i++) {
			pat = argument_patterns(commands[i], kindlist[k], "|")
			if (pat != "")
				out("\t" pat ") REPLY=" kindlist[k] " ;;")
		}
	out("\t*) REPLY= ;;")
	out("\tesac")
	out("}")
	out("")
	out("# _fdpass_operands CMD: REPLY is what follows CMD's options: names (held")
	out("# by the broker), paths, or empty; then \" command\" when a command line")
	out("# follows \"--\".")
	out("_fdpass_operands() {")
	out("\tcase $1 in")
	for (i = 1; i <= ncommands; i++) {
		c = commands[i]
		if (c in operands || c in dashdash)
			out("\t" c ") REPLY='" operands[c] (c in dashdash ? " command" : "") "' ;;")
	}
	out("\t*) REPLY= ;;")
	out("\tesac")
	out("}")
}

# Text for a zsh single-quoted word.
function zsh_quote(s) {
	gsub(/'/, "'\\''", s)
	return "'" s "'"
}

# A description for inside _arguments' brackets.
function zsh_desc(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/\[/, "\\[", s)
	gsub(/\]/, "\\]", s)
	gsub(/:/, "\\:", s)
	return s
}

function zsh_action(kind) {
	if (kind == "path")
		return "_files"
	if (kind == "env")
		return "_parameters -g \"*export*\""
	if (kind == "signal")
		return "_signals"
	return " "
}

# The zsh tables: local arrays of _describe and _arguments specifications,
# fdpass_args_CMD for each subcommand CMD ('-' made '_').
function zsh_tables(	i, j, c, f, nf, n, excl, spec, s, name) {
	out("local -a fdpass_commands=(")
	for (i = 1; i <= ncommands; i++)
		out("\t" zsh_quote(commands[i] ":" cdesc[commands[i]]))
	out(")")
	s = ""
	for (i = 1; i <= ncommands; i++)
		if (commands[i] in dashdash)
			s = s (s == "" ? "" : " ") commands[i]
	out("local -a fdpass_command_after_dashdash=(" s ")")
	for (i = 1; i <= ncommands; i++) {
		c = commands[i]
		name = c
		gsub(/-/, "_", name)
		out("local -a fdpass_args_" name "=(")
		for (j = 1; j <= nopts[c]; j++) {
			nf = split(oforms[c, j], f, ",")
			# zsh offers an option once, unless it may be repeated
			excl = orepeat[c, j] ? "*" : nf > 1 ? "(" oforms[c, j] ")" : ""
			gsub(/,/, " ", excl)
			for (n = 1; n <= nf; n++) {
				spec = excl f[n]
				if (okind[c, j] != "")
					spec = spec (ooptional[c, j] ? "=-" : \
					    f[n] ~ /^--/ ? "=" : "+")
				spec = spec "[" zsh_desc(odesc[c, j]) "]"
				if (okind[c, j] != "")
					spec = spec (ooptional[c, j] ? "::" : ":") \
					    olabel[c, j] ":" zsh_action(okind[c, j])
				out("\t" zsh_quote(spec))
			}
		}
		if (operands[c] == "names")
			out("\t" zsh_quote("*:held name:_fdpass_names"))
		else if (operands[c] == "paths")
			out("\t" zsh_quote("*:address:_files"))
		out(")")
	}
}

# Text for a fish single-quoted word.
function fish_quote(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/'/, "\\'", s)
	return "'" s "'"
}

# The fish tables: complete commands, and __fdpass_argument for the
# functions that read the command line.
function fish_tables(	i, j, c, f, nf, n, line, pat, k) {
	out("complete -c fdpass -f")
	out("complete -c fdpass -n __fdpass_needs_command -l help -d 'show the commands'")
	out("complete -c fdpass -n __fdpass_needs_command -l version -d 'show the version'")
	for (i = 1; i <= ncommands; i++)
		out("complete -c fdpass -n __fdpass_needs_command -a " commands[i] \
		    " -d " fish_quote(cdesc[commands[i]]))
	for (i = 1; i <= ncommands; i++) {
		c = commands[i]
		for (j = 1; j <= nopts[c]; j++) {
			line = "complete -c fdpass -n '__fdpass_using " c "'"
			nf = split(oforms[c, j], f, ",")
			for (n = 1; n <= nf; n++)
				line = line (f[n] ~ /^--/ ? " -l " substr(f[n], 3) : \
				    " -s " substr(f[n], 2))
			if (ooptional[c, j] || okind[c, j] == "")
				;
			else if (okind[c, j] == "path")
				line = line " -r -F"
			else if (okind[c, j] == "env")
				line = line " -x -a '(set -nx)'"
			else if (okind[c, j] == "signal")
				line = line " -x -a '(__fdpass_signals)'"
			else
				line = line " -x"
			out(line " -d " fish_quote(odesc[c, j]))
		}
		if (operands[c] == "names")
			out("complete -c fdpass -n '__fdpass_using " c \
			    "; and not __fdpass_after_dashdash' -a '(__fdpass_names)'")
		else if (operands[c] == "paths")
			out("complete -c fdpass -n '__fdpass_using " c "' -F")
		if (c in dashdash)
			out("complete -c fdpass -n '__fdpass_using " c \
			    "; and __fdpass_after_dashdash' -a '(__fdpass_complete_command)'")
	}
	out("")
	out("# __fdpass_argument CMD OPTION: the kind of argument OPTION of CMD takes")
	out("# in the next word (path, word, env, signal), or nothing.")
	out("function __fdpass_argument")
	out("    switch $argv[1]:$argv[2]")
	for (k = 1; k <= nkinds; k++)
		for (i = 1; i <= ncommands; i++) {
			pat = argument_patterns(commands[i], kindlist[k], " ")
			if (pat != "") {
				out("        case " pat)
				out("            echo " kindlist[k])
			}
		}
	out("    end")
	out("end")
}
