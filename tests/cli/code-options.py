#!/usr/bin/env python3
"""code-options.py CMDDIR: every option each subcommand accepts, read from
the code, for the test that keeps shell completion in step with it. For each
file of CMDDIR exporting a struct cmd_entry, one line: the subcommand's name,
then each long option of its struct option tables (macros of CMDDIR's
headers expanded) as --NAME and each letter of its getopt_long option
strings (literals and the macros that stand for them) as -L, sorted."""
import glob
import os
import re
import sys


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def macros_of(cmddir):
    """Every #define NAME BODY of the headers and sources, continuation
    lines joined."""
    macros = {}
    for path in glob.glob(os.path.join(cmddir, "*.[ch]")):
        with open(path) as f:
            text = strip_comments(f.read()).replace("\\\n", " ")
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.*)$", text, re.M):
            macros[m.group(1)] = m.group(2)
    return macros


def long_names(body, macros, depth=0):
    """The "name" of every { "name", ... } entry in body, through macros."""
    if depth > 16:
        sys.exit("code-options.py: macros nest too deep")
    names = re.findall(r'\{\s*"([^"]+)"', body)
    for word in re.findall(r"\b[A-Za-z_]\w*\b", body):
        if word in macros:
            names += long_names(macros[word], macros, depth + 1)
    return names


def short_letters(arg, macros, depth=0):
    """The letters of an optstring argument: string literals and macros
    that stand for them, written one after the other."""
    if depth > 16:
        sys.exit("code-options.py: macros nest too deep")
    letters = ""
    for literal, word in re.findall(r'"([^"]*)"|(\w+)', arg):
        if word:
            letters += short_letters(macros.get(word, ""), macros, depth + 1)
        else:
            letters += literal
    return letters


def main():
    cmddir = sys.argv[1]
    macros = macros_of(cmddir)
    found = 0
    for path in sorted(glob.glob(os.path.join(cmddir, "*.c"))):
        with open(path) as f:
            text = strip_comments(f.read())
        entry = re.search(r'struct\s+cmd_entry\s+\w+\s*=\s*\{\s*"([^"]+)"', text)
        if entry is None:
            continue
        options = set()
        for table in re.finditer(r"struct\s+option\s+\w+\s*\[\s*\]\s*=\s*\{(.*?)\}\s*;",
                                 text, re.S):
            options |= {"--" + n for n in long_names(table.group(1), macros)}
        for optstring in re.finditer(r'getopt_long\s*\([^,]*,[^,]*,((?:\s*(?:"[^"]*"|\w+))+)\s*,', text):
            options |= {"-" + c for c in short_letters(optstring.group(1), macros)
                        if c not in "+-:"}
        if not options:
            sys.exit("code-options.py: %s: no options found for %s" %
                     (path, entry.group(1)))
        print(entry.group(1), *sorted(options))
        found += 1
    if not found:
        sys.exit("code-options.py: no struct cmd_entry in " + cmddir)


if __name__ == "__main__":
    main()
