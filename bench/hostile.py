#!/usr/bin/env python3
"""A hostile FHIR supplier on loopback for the memory and chaos benchmarks: raw
sockets, so that it can reset, hang, drip, lie about lengths and send what no
well-behaved server would. Every request gets the same fault.

    python3 bench/hostile.py FAULT [--port N]      # serves until killed

Used as a module by bench/evidence_memory.py and bench/chaos.py.
"""
import argparse
import gzip
import json
import socket
import socketserver
import struct
import threading
import time

MB = 1 << 20


def big_patient(size):
    """A FHIR JSON Patient of exactly `size` bytes (a long narrative)."""
    head = '{"resourceType":"Patient","id":"big","text":{"status":"generated","div":"<div xmlns=\\"http://www.w3.org/1999/xhtml\\">'
    tail = '</div>"}}'
    return (head + "a" * (size - len(head) - len(tail)) + tail).encode()


def gzip_bomb():
    """About 1 MB that inflates to 1 GiB: 100 gzip members of 10 MiB of zeros."""
    member = gzip.compress(b"\0" * (10 * MB), compresslevel=9)
    return member * 100


FAULTS = [
    "reset", "hang", "slow-drip", "500mb-body", "gzip-bomb", "bad-json", "bad-utf8",
    "wrong-content-type", "redirect-loop", "truncated-body", "not-fhir", "empty",
    "html-500", "huge-headers",
]


def response(status, body, kind="application/fhir+json", extra=""):
    return (f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            f"{extra}\r\n").encode() + body


class Handler(socketserver.BaseRequestHandler):
    fault = "big-10mib"
    cache = {}

    def read_head(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(rest) < length:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head.split(b" ")[1].decode(errors="replace") if b" " in head else "/"

    def handle(self):
        try:
            while True:
                path = self.read_head()
                if path is None or not self.answer(path):
                    return
        except OSError:
            return

    def send(self, data):
        self.request.sendall(data)
        return True

    def answer(self, path):
        f = self.fault
        if f == "big-10mib":
            body = self.cache.setdefault(f, big_patient(10 * MB))
            return self.send(response("200 OK", body))
        if f == "reset":
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if f == "hang":
            time.sleep(3600)
            return False
        if f == "slow-drip":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 100000\r\n\r\n")
            while True:
                self.request.sendall(b" ")
                time.sleep(0.2)
        if f == "500mb-body":
            size = 500 * MB
            self.request.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {size}\r\n\r\n".encode())
            block = b"a" * 65536
            for _ in range(size // len(block)):
                self.request.sendall(block)
            return True
        if f == "gzip-bomb":
            body = self.cache.setdefault(f, gzip_bomb())
            return self.send(response("200 OK", body, extra="Content-Encoding: gzip\r\n"))
        if f == "bad-json":
            return self.send(response("200 OK", b'{"resourceType": "Patient", "id": '))
        if f == "bad-utf8":
            return self.send(response("200 OK", b'{"resourceType": "Patient", "id": "\xff\xfe"}'))
        if f == "wrong-content-type":
            body = json.dumps({"resourceType": "Patient", "id": "1"}).encode()
            return self.send(response("200 OK", body, kind="text/plain"))
        if f == "redirect-loop":
            return self.send(response("302 Found", b"", extra=f"Location: {path}\r\n"))
        if f == "truncated-body":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 100000\r\n\r\n{\"resourceType\": \"Pat")
            return False
        if f == "not-fhir":
            return self.send(response("200 OK", b'{"hello": "world"}', kind="application/json"))
        if f == "empty":
            return False
        if f == "html-500":
            page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
            return self.send(response("500 Internal Server Error", page, kind="text/html"))
        if f == "huge-headers":
            headers = "".join(f"X-Filler-{i}: {'h' * 4000}\r\n" for i in range(200))
            return self.send(response("200 OK", b"{}", extra=headers))
        raise ValueError(f"unknown fault {f}")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(fault, port=0):
    """Serves `fault` on loopback in a thread; returns (server, base URL)."""
    handler = type("H", (Handler,), {"fault": fault, "cache": {}})
    server = Server(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("fault", choices=FAULTS + ["big-10mib"])
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    server, url = start(a.fault, a.port)
    print(url, flush=True)
    threading.Event().wait()
