#!/usr/bin/env python3
"""Loopback HTTP collector for the uploader tests (Python stdlib only).

Started by the tests on an ephemeral port. Every request it receives is parsed
(Sentry envelope framing item by item, or multipart/form-data parts and
fields, after undoing Content-Encoding: gzip) and recorded as one JSON line in
the log file, then answered according to the current mode:

  200 | 400 | 413 | 500          that status (a 200 answers {"id": EVENT_ID}
                                 to an envelope, "CrashID=bp-x" to multipart)
  429                            429 without Retry-After or rate-limit headers
  429-retry-after:N              429 with Retry-After: N
  429-rl:HEADER                  429 with X-Sentry-Rate-Limits: HEADER
  200-rl:HEADER                  200 with X-Sentry-Rate-Limits: HEADER
  slow:S                         wait S seconds, then 200
  hang                           read the request, record it, never answer
  hold                           read the request, record it, and answer only
                                 once the mode is no longer hold (then as the
                                 new mode says)
  reset                          read the request, record it, reset the TCP
                                 connection (SO_LINGER 0)

The mode is set with --mode, and changed at run time by POST /__control with
a JSON body {"mode": M} or {"script": [M1, M2, ...], "then": M} (the script is
consumed one request at a time). With --tls CERT KEY it serves HTTPS.
--port-file receives the port once the server listens; --no-fsync skips the
per-request fsync of the log (benchmarks). Attachment payloads
are saved under --save-dir/<event_id>/<filename> so the tests can compare the
exact bytes.
"""
import argparse
import gzip
import hashlib
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import zlib

STATE = {"mode": "200", "script": [], "lock": threading.Lock()}
ARGS = None


def parse_envelope(body):
    """Parses a Sentry envelope strictly; raises ValueError naming the spot."""
    out = {"items": []}
    pos = 0
    nl = body.find(b"\n")
    if nl < 0:
        raise ValueError("envelope: no newline after the header")
    try:
        out["header"] = json.loads(body[:nl])
    except ValueError as e:
        raise ValueError("envelope header is not JSON: %s" % e)
    pos = nl + 1
    while pos < len(body):
        nl = body.find(b"\n", pos)
        if nl < 0:
            raise ValueError("item header at offset %d: no newline" % pos)
        try:
            ih = json.loads(body[pos:nl])
        except ValueError as e:
            raise ValueError("item header at offset %d is not JSON: %s" % (pos, e))
        if not isinstance(ih, dict) or "type" not in ih:
            raise ValueError("item header at offset %d has no type" % pos)
        pos = nl + 1
        if "length" in ih:
            n = ih["length"]
            if not isinstance(n, int) or n < 0 or pos + n > len(body):
                raise ValueError("item at offset %d: bad length %r" % (pos, n))
            payload = body[pos:pos + n]
            pos += n
            if pos < len(body):
                if body[pos:pos + 1] != b"\n":
                    raise ValueError("item ending at %d: missing newline" % pos)
                pos += 1
        else:
            nl = body.find(b"\n", pos)
            end = nl if nl >= 0 else len(body)
            payload = body[pos:end]
            pos = end + 1
        item = {"header": ih, "length": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest()}
        if ih["type"] in ("event", "session"):
            try:
                item["json"] = json.loads(payload)
            except ValueError as e:
                raise ValueError("%s payload is not JSON: %s" % (ih["type"], e))
        item["_payload"] = payload
        out["items"].append(item)
    return out


def parse_multipart(body, ctype):
    boundary = None
    for part in ctype.split(";"):
        part = part.strip()
        if part.startswith("boundary="):
            boundary = part[len("boundary="):].strip('"')
    if not boundary:
        raise ValueError("multipart: no boundary in Content-Type")
    delim = b"--" + boundary.encode()
    if not body.startswith(delim):
        raise ValueError("multipart: body does not start with the boundary")
    fields, files = {}, {}
    pos = 0
    while True:
        if not body.startswith(delim, pos):
            raise ValueError("multipart: expected boundary at offset %d" % pos)
        pos += len(delim)
        if body.startswith(b"--", pos):
            break
        if not body.startswith(b"\r\n", pos):
            raise ValueError("multipart: no CRLF after boundary at %d" % pos)
        pos += 2
        hend = body.find(b"\r\n\r\n", pos)
        if hend < 0:
            raise ValueError("multipart: unterminated part headers at %d" % pos)
        headers = {}
        for line in body[pos:hend].split(b"\r\n"):
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        pos = hend + 4
        nxt = body.find(b"\r\n" + delim, pos)
        if nxt < 0:
            raise ValueError("multipart: part at %d has no closing boundary" % pos)
        data = body[pos:nxt]
        pos = nxt + 2
        disp = headers.get("content-disposition", "")
        params = {}
        for p in disp.split(";")[1:]:
            k, _, v = p.strip().partition("=")
            params[k] = v.strip('"')
        name = params.get("name")
        if name is None:
            raise ValueError("multipart: part without a name")
        if "filename" in params:
            files[name] = {"filename": params["filename"], "length": len(data),
                           "content_type": headers.get("content-type"),
                           "sha256": hashlib.sha256(data).hexdigest(),
                           "_payload": data}
        else:
            fields[name] = data.decode("utf-8", "replace")
    return {"fields": fields, "files": files}


def log_request(rec):
    line = json.dumps(rec, sort_keys=True)
    with STATE["lock"]:
        with open(ARGS.log, "a") as f:
            f.write(line + "\n")
            f.flush()
            if not ARGS.no_fsync:
                os.fsync(f.fileno())


def save_payloads(event_id, named):
    if not ARGS.save_dir or not event_id:
        return
    d = os.path.join(ARGS.save_dir, event_id)
    os.makedirs(d, exist_ok=True)
    for fname, data in named:
        with open(os.path.join(d, os.path.basename(fname)), "wb") as f:
            f.write(data)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out as separate writes; without NODELAY a
        # keep-alive client waits for the delayed ACK (40 ms) on each one.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if ARGS.verbose:
            sys.stderr.write("collector: " + fmt % args + "\n")

    def _read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < n:
            chunk = self.rfile.read(n - len(body))
            if not chunk:
                break
            body += chunk
        return body

    def _answer(self, status, headers=(), body=b"{}"):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self._read_body()
        if self.path == "/__control":
            cmd = json.loads(body or b"{}")
            with STATE["lock"]:
                if "script" in cmd:
                    STATE["script"] = list(cmd["script"])
                if "mode" in cmd:
                    STATE["mode"] = cmd["mode"]
                if "then" in cmd:
                    STATE["mode"] = cmd["then"]
            self._answer(200)
            return
        with STATE["lock"]:
            mode = STATE["script"].pop(0) if STATE["script"] else STATE["mode"]
        rec = {"time": time.time(), "method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "wire_length": len(body), "mode": mode}
        raw = body
        enc = self.headers.get("Content-Encoding", "")
        try:
            if enc == "gzip":
                raw = gzip.decompress(body)
            elif enc:
                raise ValueError("unknown Content-Encoding %r" % enc)
            rec["length"] = len(raw)
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("application/x-sentry-envelope"):
                env = parse_envelope(raw)
                named = []
                for it in env["items"]:
                    p = it.pop("_payload")
                    if it["header"].get("type") == "attachment":
                        named.append((it["header"].get("filename", "x"), p))
                rec["envelope"] = env
                save_payloads(env["header"].get("event_id"), named)
            elif ctype.startswith("multipart/form-data"):
                mp = parse_multipart(raw, ctype)
                named = [(v["filename"], v.pop("_payload"))
                         for v in mp["files"].values()]
                rec["multipart"] = mp
                eid = None
                try:
                    eid = json.loads(mp["fields"].get("sentry", "{}")).get("event_id")
                except ValueError:
                    pass
                save_payloads(eid, named)
            else:
                raise ValueError("unexpected Content-Type %r" % ctype)
        except (ValueError, OSError, EOFError, zlib.error) as e:
            rec["parse_error"] = str(e)
        log_request(rec)

        if mode == "hang":
            time.sleep(3600)
            return
        while mode == "hold":
            time.sleep(0.05)
            with STATE["lock"]:
                mode = STATE["mode"]
        if mode == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if mode.startswith("slow:"):
            time.sleep(float(mode[5:]))
            mode = "200"
        if mode.startswith("429-retry-after:"):
            self._answer(429, [("Retry-After", mode.split(":", 1)[1])])
        elif mode.startswith("429-rl:"):
            self._answer(429, [("X-Sentry-Rate-Limits", mode.split(":", 1)[1])])
        elif mode.startswith("200-rl:"):
            self._answer(200, [("X-Sentry-Rate-Limits", mode.split(":", 1)[1])])
        else:
            status = int(mode)
            # Like Sentry: a 200 names the event it stored ({"id": ...});
            # a Breakpad-style collector answers "CrashID=bp-<id>".
            eid = (rec.get("envelope") or {}).get("header", {}).get("event_id")
            if status == 200 and "multipart" in rec:
                body = b"CrashID=bp-x\n"
            elif status == 200:
                body = json.dumps({"id": eid or "x"}).encode()
            else:
                body = b'{"detail":"collector says %d"}' % status
            self._answer(status, body=body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode", default="200")
    ap.add_argument("--save-dir")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--no-fsync", action="store_true",
                    help="do not fsync the log per request (benchmarks)")
    ARGS = ap.parse_args()
    STATE["mode"] = ARGS.mode
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    if ARGS.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls[0], ARGS.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, ARGS.port_file)
    # Exit with the test that started us, even if it was killed.
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
