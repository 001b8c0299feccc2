#!/usr/bin/env python3
"""Hostile package archives against `assure packages install`: peak memory, what is
left on disk, the exit code and the message. The archives are made here: gzip bombs
(a 2.4 MB .tgz whose one entry inflates to 2.4 GB, a 1.8 MB one to 1.8 GB, and 300 MB
in 1 MB entries from 300 KB), 200,000 empty entries, and two `package/package.json`.

    python3 bench/hostile_packages.py [--bin target/release/assure]
"""
import argparse
import io
import pathlib
import re
import subprocess
import tarfile
import tempfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
MIB = 1 << 20


def header(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def bomb(entries):
    """A valid .tgz: package.json, then each (name, MiB) entry of zeros. One MiB of
    zeros is compressed once after a full flush and repeated, so making a 2.4 GB bomb
    takes seconds; the CRC is computed the same way, chunk by chunk."""
    manifest = b'{"name":"bomb","version":"1.0.0"}'
    first = header("package/package.json", len(manifest)) + manifest
    first += b"\0" * (1024 - len(first))
    zeros = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
    out += deflate.compress(first) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(first)
    size = len(first)
    chunk = None
    for name, mib in entries:
        head = header(name, mib * MIB)
        out += deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
        crc = zlib.crc32(head, crc)
        size += len(head)
        if chunk is None:
            chunk = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
        for _ in range(mib):
            out += chunk
            crc = zlib.crc32(zeros, crc)
        size += mib * MIB
    tail = bytes(1024)
    out += deflate.compress(tail) + deflate.flush(zlib.Z_FINISH)
    crc = zlib.crc32(tail, crc)
    size += len(tail)
    out += crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(out)


def plain(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def du(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/assure"))
    args = ap.parse_args()
    cases = {
        "bomb 2.4 GB in one entry": bomb([("package/bomb.json", 2400)]),
        "bomb 1.8 GB in one entry": bomb([("package/bomb.json", 1800)]),
        "bomb 300 MB in 1 MB entries": bomb([(f"package/z{i}.json", 1) for i in range(300)]),
        "200,000 empty entries": plain([("package/package.json", b'{"name":"many","version":"1"}')]
                                       + [(f"package/e{i}.json", b"") for i in range(200_000)]),
        "package.json twice": plain([("package/package.json", b'{"name":"good","version":"1"}'),
                                     ("package/package.json", b'{"name":"evil","version":"6"}')]),
    }
    print("| archive | .tgz size | exit | peak RSS MB | left in the cache | message |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, data in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            tgz = pathlib.Path(tmp) / "hostile.tgz"
            tgz.write_bytes(data)
            cache = pathlib.Path(tmp) / "cache"
            out = subprocess.run(["/usr/bin/time", "-f", "RSS %M", args.bin, "packages",
                                  "install", str(tgz), "--cache", str(cache)],
                                 capture_output=True, text=True, check=False)
            rss = int(re.search(r"RSS (\d+)", out.stderr)[1]) // 1024
            message = next((l for l in out.stderr.splitlines() if l.startswith("error")), "")
            left = du(cache) if cache.exists() else 0
            print(f"| {name} | {len(data):,} | {out.returncode} | {rss} | {left:,} B | "
                  f"{message.replace(str(tgz), 'hostile.tgz')[:160]} |")


if __name__ == "__main__":
    main()
