#!/usr/bin/env python3
"""Validate fdpass's JSON output on stdin against the schema fdpass(1)
documents (section JSON), written out here as a JSON Schema.

Usage: jsoncheck.py group|list|process|status|events   (recv --json
prints a group, list --json a list, describe --json a process, status
--json a status, monitor --json events, one object a line)
Exits 0 if the document is valid UTF-8 and valid against the schema, 1
with the reason if not."""
import json
import sys

import jsonschema

STRINGS = ["path", "dev", "end", "family", "type", "protocol", "local", "peer",
           "clock", "sigmask", "signals", "fanotify_flags", "event_flags",
           "name", "seals", "link", "fdinfo", "flags", "unread", "fdname"]
INTEGERS = ["size", "offset", "inode", "pipe_size", "queued", "major", "minor",
            "peer_pid", "peer_uid", "peer_gid", "counter", "ticks", "watches",
            "messages", "max_messages", "message_size", "backlog", "pending",
            "netns", "netns_cookie"]
BOOLEANS = ["deleted", "listening", "semaphore", "reuseport", "v6only"]

# The fields each kind may have besides kind and flags (fdpass(1) DESCRIPTIONS).
KINDS = {
    "file": ["path", "deleted", "size", "offset", "inode", "dev"],
    "dir": ["path", "deleted", "inode", "dev"],
    "pipe": ["inode", "end", "pipe_size", "queued"],
    "fifo": ["path", "deleted", "inode", "dev", "end", "pipe_size", "queued"],
    "socket": ["inode", "family", "type", "protocol", "listening", "local",
               "peer", "peer_pid", "peer_uid", "peer_gid", "backlog", "pending",
               "reuseport", "v6only", "netns", "netns_cookie"],
    "tty": ["path", "deleted", "major", "minor"],
    "chardev": ["path", "deleted", "major", "minor"],
    "blockdev": ["path", "deleted", "major", "minor"],
    "eventfd": ["counter", "semaphore"],
    "timerfd": ["clock", "value", "interval", "ticks"],
    "signalfd": ["sigmask", "signals"],
    "epoll": ["watches"],
    "inotify": ["watches"],
    "fanotify": ["fanotify_flags", "event_flags", "watches"],
    "memfd": ["name", "size", "offset", "seals"],
    "pidfd": ["pid"],
    "mqueue": ["name", "deleted", "messages", "max_messages", "message_size"],
    "unknown": ["link", "inode", "fdinfo"],
}


def field_type(key):
    if key in ("value", "interval"):
        return {"type": "number"}
    if key == "pid":
        return {"type": "integer"}
    if key in INTEGERS:
        return {"type": "integer", "minimum": 0}
    if key in BOOLEANS:
        return {"type": "boolean"}
    assert key in STRINGS, key
    return {"type": "string"}


def fd_schema(described=False):
    """A descriptor object; describe's (described) also has the fd number,
    and may have the fd's LISTEN_FDNAMES name and the fields it could not
    read."""
    one_of = []
    for kind, keys in KINDS.items():
        props = {"kind": {"const": kind}, "flags": {"type": "string"}}
        props.update({k: field_type(k) for k in keys})
        required = ["kind", "flags"]
        if described:
            props.update({"fd": {"type": "integer", "minimum": 0},
                          "fdname": field_type("fdname"),
                          "unread": field_type("unread")})
            required.append("fd")
        one_of.append({"type": "object", "required": required,
                       "properties": props, "additionalProperties": False})
    return {"oneOf": one_of}


def process_schema():
    return {"type": "object", "required": ["pid", "fds"],
            "properties": {"pid": {"type": "integer", "minimum": 1},
                           "fds": {"type": "array",
                                   "items": fd_schema(True)}},
            "additionalProperties": False}


def group_schema(listed):
    props = {"name": {"type": "string", "minLength": 1, "maxLength": 255},
             "nfds": {"type": "integer", "minimum": 1, "maximum": 253},
             "fds": {"type": "array", "items": fd_schema()}}
    required = ["name", "nfds"]
    if listed:
        props["expires_in"] = {"type": ["integer", "null"], "minimum": 1}
        required.append("expires_in")
    else:
        required.append("fds")
    return {"type": "object", "required": required, "properties": props,
            "additionalProperties": False}


COUNT = {"type": "integer", "minimum": 0}
REQUEST_KINDS = ["store", "retrieve", "list", "delete", "status", "monitor",
                 "dump", "load", "takeover", "other"]
LIMITS = ["max_fds", "max_clients", "reserved_clients", "max_waiters",
          "max_monitors", "monitor_queue", "max_inflight", "client_inflight",
          "client_timeout", "nofile"]
FIGURES = ["groups", "fds", "fds_open", "clients", "waiters", "monitors",
           "monitors_others", "inflight", "refused_connections",
           "events_dropped"]


def status_schema():
    props = {"version": {"type": "string"}, "protocol": {"const": 2},
             "pid": {"type": "integer", "minimum": 1}, "uid": COUNT,
             "gid": COUNT, "address": {"type": "string"}, "started": COUNT,
             "uptime": {"type": "number", "minimum": 0},
             "took_over_from": {"type": ["integer", "null"], "minimum": 1},
             "limits": {"type": "object", "required": LIMITS,
                        "properties": {k: COUNT for k in LIMITS},
                        "additionalProperties": False},
             "requests": {"type": "object", "required": REQUEST_KINDS,
                          "properties": {k: {
                              "type": "object", "required": ["served", "refused"],
                              "properties": {"served": COUNT, "refused": COUNT},
                              "additionalProperties": False} for k in REQUEST_KINDS},
                          "additionalProperties": False}}
    props.update({k: COUNT for k in FIGURES})
    return {"type": "object", "required": list(props), "properties": props,
            "additionalProperties": False}


# Each event's members besides kind and time: required, then optional.
WHO = ["client", "uid", "gid", "pid"]
EVENTS = {
    "monitor": (WHO, []),
    "stored": (["name", "nfds"] + WHO, ["ttl"]),
    "replaced": (["name", "nfds"] + WHO, ["ttl"]),
    "retrieved": (["name", "nfds"] + WHO, []),
    "taken": (["name", "nfds"] + WHO, []),
    "deleted": (["name", "nfds"] + WHO, []),
    "expired": (["name", "nfds"], []),
    "refused": (["op", "status", "message", "uid", "gid", "pid"], ["name", "client"]),
    "connected": (WHO, []),
    "left": (WHO, []),
    "takeover": (["old_pid", "uid", "gid", "pid"], []),
    "dropped": (["count"], []),
    "stopped": ([], []),
}
EVENT_TYPES = {"time": {"type": "number", "minimum": 0},
               "name": {"type": "string", "minLength": 1, "maxLength": 255},
               "nfds": {"type": "integer", "minimum": 1, "maximum": 253},
               "ttl": {"type": "integer", "minimum": 1},
               "op": {"type": "string"}, "status": {"type": "integer", "minimum": 1},
               "message": {"type": "string"},
               "count": {"type": "integer", "minimum": 1},
               "old_pid": COUNT, "client": {"type": "integer", "minimum": 1},
               "uid": COUNT, "gid": COUNT, "pid": COUNT}


def event_schema():
    one_of = []
    for kind, (required, optional) in EVENTS.items():
        keys = ["time"] + required + optional
        props = {"kind": {"const": kind}}
        props.update({k: EVENT_TYPES[k] for k in keys})
        one_of.append({"type": "object", "required": ["kind", "time"] + required,
                       "properties": props, "additionalProperties": False})
    return {"oneOf": one_of}


def main():
    what = sys.argv[1]
    schema = {"group": group_schema(False), "process": process_schema(),
              "list": {"type": "array", "items": group_schema(True)},
              "status": status_schema(),
              "events": {"type": "array", "items": event_schema()}}[what]
    data = sys.stdin.buffer.read()
    try:
        # fdpass(1): the output is UTF-8; bytes of a path that are not
        # come as lone surrogates \udcNN, which are ASCII on the wire
        text = data.decode("utf-8")
        if what == "events":
            # one object a line, each line whole
            if not text.endswith("\n"):
                raise ValueError("the last line is not whole")
            doc = [json.loads(line) for line in text.splitlines()]
        else:
            doc = json.loads(text)
        jsonschema.validate(doc, schema)
        if what == "events" and [e["kind"] for e in doc[:1]] != ["monitor"]:
            raise jsonschema.ValidationError("the stream does not start with its monitor event")
        if what == "group" and len(doc["fds"]) != doc["nfds"]:
            raise jsonschema.ValidationError("nfds is not the number of fds")
        if what == "list" and [g["name"] for g in doc] != sorted(g["name"] for g in doc):
            raise jsonschema.ValidationError("groups are not sorted by name")
        fds = [f["fd"] for f in doc["fds"]] if what == "process" else []
        if fds != sorted(set(fds)):
            raise jsonschema.ValidationError("fds are not in increasing order")
    except (ValueError, jsonschema.ValidationError) as e:
        sys.exit("jsoncheck.py: invalid %s: %s" % (what, str(e).splitlines()[0]))


if __name__ == "__main__":
    main()
