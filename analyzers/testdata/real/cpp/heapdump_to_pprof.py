#!/usr/bin/env python3
"""Converts gperftools (tcmalloc) legacy heap profiles to gzipped profile.proto.

Why not `go tool pprof -proto BINARY DUMP`: Go 1.19's pprof symbolizes with Go's
own object reader (cmd/internal/objfile), which gives C++ code file:line from
DWARF but no function names, so every frame of a C++ program comes out nameless.
This does what google/pprof does with binutils instead:

 1. Parse the dump: the header "heap profile: N: B [ N: B] @ heapprofile", one
    record per stack "inuse_objs: inuse_bytes [alloc_objs: alloc_bytes] @ addr...",
    and the process's maps after "MAPPED_LIBRARIES:". tcmalloc's HEAPPROFILE
    records every allocation (not sampled), so the counts need no scaling.
 2. Every address is a return address: subtract 1 to land in the call (as pprof
    does for legacy profiles).
 3. Symbolize each address in its mapped file with llvm-symbolizer (inlined frames
    too, innermost first; exported symbols for stripped libraries). Names are
    demangled with c++filt and simplified as pprof shows them by default: no
    parameters, no template arguments ("leakservice::Remember").
 4. Write profile.proto (github.com/google/pprof/proto/profile.proto) by hand:
    sample types alloc_objects/count, alloc_space/bytes, inuse_objects/count,
    inuse_space/bytes (the order pprof gives legacy heap profiles), period type
    space/bytes, period 1, and time_nanos = the dump file's modification time,
    so profiles sort and space in time as they were taken.

usage: heapdump_to_pprof.py DUMP OUT.pb.gz [--binary PATH]
  --binary: the program's file, when it has moved since the dump was written.
"""

import gzip
import os
import re
import subprocess
import sys


# ---------------------------------------------------------------------------
# 1. Parsing

RECORD = re.compile(r"^\s*(\d+):\s*(\d+)\s*\[\s*(\d+):\s*(\d+)\]\s*@(.*)$")
MAPLINE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+\d+\s*(.*)$")


def parse_dump(path):
    with open(path, "r", errors="replace") as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith("heap profile:"):
        sys.exit(f"{path}: line 1: not a legacy heap profile")
    if "heapprofile" not in lines[0]:
        sys.exit(f"{path}: line 1: '{lines[0]}': only unsampled HEAPPROFILE dumps are read")
    records, maps = [], []
    in_maps = False
    for n, line in enumerate(lines[1:], start=2):
        if line.startswith("MAPPED_LIBRARIES:"):
            in_maps = True
            continue
        if in_maps:
            m = MAPLINE.match(line)
            if m:
                start, end, perms, offset, name = m.groups()
                maps.append((int(start, 16), int(end, 16), perms, int(offset, 16), name.strip()))
            continue
        if not line.strip():
            continue
        m = RECORD.match(line)
        if not m:
            sys.exit(f"{path}: line {n}: cannot read '{line[:80]}'")
        inuse_n, inuse_b, alloc_n, alloc_b, addrs = m.groups()
        stack = [int(a, 16) for a in addrs.split()]
        records.append((int(alloc_n), int(alloc_b), int(inuse_n), int(inuse_b), stack))
    return records, maps


# ---------------------------------------------------------------------------
# 3. Symbolization

def elf_is_dyn(path):
    try:
        with open(path, "rb") as f:
            head = f.read(18)
        return head[:4] == b"\x7fELF" and int.from_bytes(head[16:18], "little") == 3
    except OSError:
        return False


def simplify(name):
    """A demangled C++ name without parameters and template arguments."""
    out, depth_paren, depth_angle, i = [], 0, 0, 0
    while i < len(name):
        if name.startswith("(anonymous namespace)", i) and depth_paren == 0 and depth_angle == 0:
            out.append("(anonymous namespace)")
            i += len("(anonymous namespace)")
            continue
        if name.startswith("operator", i) and depth_paren == 0 and depth_angle == 0:
            # operator<, operator(), operator new: keep the operator's own token
            m = re.match(r"operator(\(\)|\[\]|<<=?|>>=?|<=>|[<>]=?|\s+new(\[\])?|\s+delete(\[\])?|\S+?(?=\())", name[i:])
            if m:
                out.append(m.group(0))
                i += len(m.group(0))
                continue
        c = name[i]
        if c == "(":
            depth_paren += 1
        elif c == ")":
            depth_paren = max(0, depth_paren - 1)
        elif c == "<" and depth_paren == 0:
            depth_angle += 1
        elif c == ">" and depth_paren == 0:
            depth_angle = max(0, depth_angle - 1)
        elif depth_paren == 0 and depth_angle == 0:
            out.append(c)
        i += 1
    s = "".join(out).strip()
    for suffix in (" const", " volatile", " &", " &&"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
    s = re.sub(r"\s*\[clone [^\]]*\]", "", s)
    return s.strip()


def demangle_all(names):
    names = sorted(set(n for n in names if n.startswith("_Z")))
    if not names:
        return {}
    out = subprocess.run(["c++filt"], input="\n".join(names) + "\n", capture_output=True,
                         text=True, check=True).stdout.splitlines()
    return dict(zip(names, out))


def symbolize(path_to_addrs):
    """{file: [module-relative address]} -> {(file, addr): [(system_name, file, line)]}."""
    result = {}
    for path, addrs in path_to_addrs.items():
        if not os.path.exists(path):
            continue
        addrs = sorted(set(addrs))
        proc = subprocess.run(
            ["llvm-symbolizer", "--obj=" + path, "--inlining", "--no-demangle",
             "--functions=linkage", "--output-style=LLVM"],
            input="".join(f"0x{a:x}\n" for a in addrs), capture_output=True, text=True,
            check=True)
        blocks = proc.stdout.split("\n\n")
        for addr, block in zip(addrs, blocks):
            lines = [l for l in block.strip("\n").split("\n") if l]
            frames = []
            for fn, loc in zip(lines[0::2], lines[1::2]):
                if fn == "??":
                    continue
                parts = loc.rsplit(":", 2)
                file = parts[0] if parts and parts[0] != "??" else ""
                line = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
                frames.append((fn, file, line))
            result[(path, addr)] = frames
    return result


# ---------------------------------------------------------------------------
# 4. profile.proto encoding (varints and length-delimited fields only)

def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def packed(num, values):
    return field_bytes(num, b"".join(varint(v) for v in values)) if values else b""


class Strings:
    def __init__(self):
        self.table, self.index = [""], {"": 0}

    def __call__(self, s):
        if s not in self.index:
            self.index[s] = len(self.table)
            self.table.append(s)
        return self.index[s]


def convert(dump, out_path, binary=None):
    records, maps = parse_dump(dump)
    # Mappings: one per executable segment of a file, as pprof keeps them.
    mappings = []  # (id, start, end, offset, file, base, is_dyn)
    bases = {}
    for start, end, perms, offset, name in maps:
        if name and not name.startswith("[") and name not in bases:
            bases[name] = start - offset  # the file's load address
    for start, end, perms, offset, name in maps:
        if "x" not in perms or not name or name.startswith("["):
            continue
        path = name
        if binary and os.path.basename(name) == os.path.basename(binary):
            path = binary
        mappings.append((len(mappings) + 1, start, end, offset, name, path,
                         bases[name] if elf_is_dyn(path) else 0))

    def mapping_of(addr):
        for m in mappings:
            if m[1] <= addr < m[2]:
                return m
        return None

    # 2. Return addresses to call sites.
    wanted = {}
    for rec in records:
        for a in rec[4]:
            m = mapping_of(a - 1)
            if m:
                wanted.setdefault(m[5], []).append(a - 1 - m[6])
    symbols = symbolize(wanted)
    demangled = demangle_all(fn for frames in symbols.values() for fn, _, _ in frames)

    strings = Strings()
    functions, locations = {}, {}
    func_msgs, loc_msgs, sample_msgs = [], [], []

    def function_id(system_name, file):
        key = (system_name, file)
        if key not in functions:
            functions[key] = len(functions) + 1
            name = simplify(demangled.get(system_name, system_name))
            func_msgs.append(field_bytes(5, field_varint(1, functions[key]) +
                                         field_varint(2, strings(name)) +
                                         field_varint(3, strings(system_name)) +
                                         field_varint(4, strings(file))))
        return functions[key]

    def location_id(addr):
        if addr not in locations:
            locations[addr] = len(locations) + 1
            msg = field_varint(1, locations[addr])
            m = mapping_of(addr)
            if m:
                msg += field_varint(2, m[0])
            msg += field_varint(3, addr)
            for fn, file, line in (symbols.get((m[5], addr - m[6]), []) if m else []):
                msg += field_bytes(4, field_varint(1, function_id(fn, file)) +
                                   field_varint(2, line))
            loc_msgs.append(field_bytes(4, msg))
        return locations[addr]

    for alloc_n, alloc_b, inuse_n, inuse_b, stack in records:
        ids = [location_id(a - 1) for a in stack]
        msg = packed(1, ids) + packed(2, [alloc_n, alloc_b, inuse_n, inuse_b])
        if inuse_n or alloc_n:
            avg = (inuse_b // inuse_n) if inuse_n else (alloc_b // alloc_n)
            msg += field_bytes(3, field_varint(1, strings("bytes")) + field_varint(3, avg))
        sample_msgs.append(field_bytes(2, msg))

    body = bytearray()
    for typ, unit in (("alloc_objects", "count"), ("alloc_space", "bytes"),
                      ("inuse_objects", "count"), ("inuse_space", "bytes")):
        body += field_bytes(1, field_varint(1, strings(typ)) + field_varint(2, strings(unit)))
    body += b"".join(sample_msgs)
    for mid, start, end, offset, name, path, base in mappings:
        has = any(k[0] == path and v for k, v in symbols.items())
        body += field_bytes(3, field_varint(1, mid) + field_varint(2, start) +
                            field_varint(3, end) + field_varint(4, offset) +
                            field_varint(5, strings(name)) +
                            (field_varint(7, 1) + field_varint(8, 1) + field_varint(9, 1)
                             if has else b""))
    body += b"".join(loc_msgs)
    body += b"".join(func_msgs)
    time_nanos = int(os.stat(dump).st_mtime_ns)
    period = field_varint(1, strings("space")) + field_varint(2, strings("bytes"))
    tail = field_varint(9, time_nanos) + field_bytes(11, period) + field_varint(12, 1)
    strings_bytes = b"".join(field_bytes(6, s.encode()) for s in strings.table)
    data = bytes(body) + strings_bytes + tail
    tmp = out_path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out_path)


def main(argv):
    args, binary = [], None
    i = 1
    while i < len(argv):
        if argv[i] == "--binary" and i + 1 < len(argv):
            binary = argv[i + 1]
            i += 2
            continue
        args.append(argv[i])
        i += 1
    if len(args) != 2:
        sys.exit(__doc__.split("\n\n")[-1])
    convert(args[0], args[1], binary)


if __name__ == "__main__":
    main(sys.argv)
