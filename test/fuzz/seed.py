#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpus (test/fuzz/corpus/TARGET/) from
real client traffic and the project's own inputs:

- frame: each connection's frames of the libvirt 9.0 captures, one file per
  connection and direction, as the bytes went over the socket;
- procedure_args: each CALL's program number, procedure number and
  arguments (the input format of that target);
- domain_xml: test/fixtures/*.xml, every XML document the clients sent in
  the captures, and each <devices> child of those (attach-device input);
- config: etc/virtvzd.conf, whole and key by key;
- snapshot_xml: the <domainsnapshot> shapes virsh's snapshot-create-as and
  snapshot-create send (SNAPSHOT_DOCS below).

usage: test/fuzz/seed.py [CAPTURES_DIR]   (default: ../shared/captures
beside the checkout). Files are named ORIGIN-HASH (capture, fixture,
etc) by a hash of their content, so a rerun adds nothing twice. The unit
tests decode every capture-* seed of procedure_args: real client calls.
"""

import hashlib
import re
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "test/fuzz/corpus"
PROGRAMS = {"REMOTE": 0x20008086, "ADMIN": 0x06900690, "KEEPALIVE": 0x6B656570}
TYPES = {"CALL": 0, "REPLY": 1, "MESSAGE": 2, "STREAM": 3, "CALL_WITH_FDS": 4,
         "REPLY_WITH_FDS": 5, "STREAM_HOLE": 6}
STATUSES = {"OK": 0, "ERROR": 1, "CONTINUE": 2}
LINE = re.compile(
    r"^(\d+) (C>S|S>C) prog=(\w+) vers=(\d+) proc=(-?\d+) type=(\w+) "
    r"serial=(\d+) status=(\w+) len=(\d+) payload=([0-9a-f]*)$")


SNAPSHOT_DOCS = [
    "<domainsnapshot/>",
    "<domainsnapshot><name>s1</name></domainsnapshot>",
    "<domainsnapshot>\n  <name>before-upgrade</name>\n"
    "  <description>kernel 6.1 &amp; friends</description>\n</domainsnapshot>\n",
    "<domainsnapshot><memory snapshot='internal'/></domainsnapshot>",
    "<domainsnapshot><memory snapshot='external' file='/var/lib/mem.img'/></domainsnapshot>",
    "<domainsnapshot><disks><disk name='vda' snapshot='external'>"
    "<source file='/var/lib/vda.snap'/></disk></disks></domainsnapshot>",
    "<domainsnapshot><name>x</name><state>running</state><creationTime>1700000000"
    "</creationTime><parent><name>y</name></parent></domainsnapshot>",
    "<domainsnapshot><name>x</name><domain type='vz'><name>vm</name></domain></domainsnapshot>",
]


def put(target, data, origin):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{origin}-{hashlib.sha1(data).hexdigest()[:16]}").write_bytes(data)


def frames(path):
    """(connection, direction, prog, proc, type, payload, whole frame)."""
    for line in path.read_text().splitlines():
        m = LINE.match(line)
        if not m:
            continue
        conn, direction, prog, vers, proc_, mtype, serial, status, length, hexed = m.groups()
        prog = PROGRAMS.get(prog, int(prog, 0) if prog[0].isdigit() else 0)
        mtype = TYPES.get(mtype, 0)
        payload = bytes.fromhex(hexed)
        header = struct.pack(">IIiIII", prog, int(vers), int(proc_), mtype, int(serial),
                             STATUSES.get(status, 0))
        whole = struct.pack(">I", 4 + len(header) + len(payload)) + header + payload
        assert len(whole) == int(length), line
        yield (path.name, conn, direction), prog, int(proc_), mtype, payload, whole


def xdr_strings(payload):
    """Every XDR string in a payload that looks like an XML document."""
    for m in re.finditer(rb"<(domain|disk|interface|graphics)[ >]", payload):
        start = m.start()
        if start < 4:
            continue
        (n,) = struct.unpack(">I", payload[start - 4:start])
        if 0 < n <= len(payload) - start:
            yield payload[start:start + n]


def xml_seeds(text, origin):
    put("domain_xml", text, origin)
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return
    for dev in root.findall("devices/*"):
        put("domain_xml", ET.tostring(dev), origin)


def main():
    captures = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/captures"
    streams = {}
    for path in sorted(captures.glob("*.txt")):
        for key, prog, proc_, mtype, payload, whole in frames(path):
            streams.setdefault(key, bytearray()).extend(whole)
            if mtype == TYPES["CALL"] and prog != PROGRAMS["KEEPALIVE"]:
                put("procedure_args", struct.pack(">Ii", prog, proc_) + payload, "capture")
                for doc in xdr_strings(payload):
                    xml_seeds(doc, "capture")
    for data in streams.values():
        put("frame", bytes(data), "capture")
    for f in sorted((ROOT / "test/fixtures").glob("*.xml")):
        xml_seeds(f.read_bytes(), "fixture")
    conf = (ROOT / "etc/virtvzd.conf").read_bytes()
    put("config", conf, "etc")
    for line in conf.splitlines():
        if re.match(rb"^#?\s*\w+\s*=", line):
            put("config", line.lstrip(b"#").strip() + b"\n", "etc")
    for doc in SNAPSHOT_DOCS:
        put("snapshot_xml", doc.encode(), "doc")
    for t in sorted(CORPUS.iterdir()):
        print(f"{t.name}: {len(list(t.iterdir()))} seeds")


if __name__ == "__main__":
    main()
