"""fleet.py: a fleet of certvald daemons behind one caching HTTP proxy (issue 16), shared by
the CI test (tests/integration/test_fleet.py) and the benchmark (bench/fleet_bench.py).

    origin CDP (cdp_origin.py, counts what it serves)
        ^
    nginx proxy_cache + proxy_cache_lock (Debian's nginx), honouring Cache-Control
        ^  `fetch proxy`
    N x certvald, one trustpoint, `crl refresh-window` = a cycle less a second

The origin replaces the CRL every cycle: version k is current during [t0 + k C, t0 + (k+1) C)
and valid until t0 + (k+2) C, and the origin says so with Cache-Control: max-age (the time
left until the next version). In the cycles listed as down the origin answers 503.
"""

import datetime
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import certvald_helper as helper
import testpki
from servers import Server, free_port, http_get, stop_process, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CDP = "http://cdp.fleet.invalid/crl/sub.crl"  # resolved by nothing but the proxy

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=crl:1m max_size=64m inactive=10m
                     use_temp_path=off;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{origin};
            proxy_cache crl;
            proxy_cache_key $uri;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status;
        }}
    }}
}}
"""


def nginx_available():
    return os.access(NGINX, os.X_OK)


class Fleet:
    def __init__(self, directory, n, cycle, versions, down=(), revoke_from=None):
        """revoke_from: the first version whose CRL lists pki.victim (None: never)."""
        self.dir = directory
        self.revoke_from = revoke_from
        self.n, self.cycle, self.n_versions, self.down = n, cycle, versions, tuple(down)
        self.www = os.path.join(directory, "www")
        os.makedirs(self.www, exist_ok=True)
        self.origin = self.nginx = None
        self.daemons = []
        self.t0 = None
        self.etags = {}  # origin ETag -> version

    # ---- setup ----

    def start(self):
        pki = self.pki = testpki.TestPKI(os.path.join(self.dir, "pki"))
        pki.root = pki.ca("Fleet Root CA")
        pki.sub = pki.ca("Fleet Sub CA", issuer=pki.root, pathlen=0)
        pki.peer = pki.leaf("peer.fleet.example", pki.sub, crl_url=CDP)
        pki.victim = pki.leaf("victim.fleet.example", pki.sub, crl_url=CDP)
        self.origin = Server([os.path.join(HERE, "cdp_origin.py"), "--root", self.www])
        self.start_nginx()
        for i in range(self.n):
            d = os.path.join(self.dir, "d%02d" % i)
            os.makedirs(d)
            text = helper.config_text(
                os.path.join(d, "certvald.sock"),
                [("SUB", pki.sub.cert_path,
                  ["revocation-check crl", "crl refresh-window %d" % (self.cycle - 1)])],
                "fetch retry-after 0\nfetch proxy http://127.0.0.1:%d" % self.proxy_port)
            self.daemons.append(helper.Daemon(d, text, args=()).start())
        self.schedule()
        return self

    def start_nginx(self):
        d = os.path.join(self.dir, "nginx")
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(d, "tmp", sub), exist_ok=True)
        self.proxy_port = free_port()
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=d, port=self.proxy_port, origin=self.origin.port,
                                      user="user root;" if os.geteuid() == 0 else ""))
        self.nginx = subprocess.Popen([NGINX, "-p", d, "-c", conf, "-e",
                                       os.path.join(d, "nginx-error.log")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.proxy_port), 0.2).close()
                return True
            except OSError:
                return False
        if not wait_for(up, self.nginx, 20):
            raise RuntimeError("nginx did not start")

    def schedule(self):
        """The CRL versions (t0: the next whole second) and the origin's schedule."""
        self.t0 = int(time.time()) + 2
        names = []
        for k in range(self.n_versions):
            tu = datetime.datetime.fromtimestamp(self.t0 + k * self.cycle, datetime.timezone.utc)
            nu = tu + datetime.timedelta(seconds=2 * self.cycle)
            revoked = ([self.pki.victim]
                       if self.revoke_from is not None and k >= self.revoke_from else [])
            pem = self.pki.crl(self.pki.sub, revoked=revoked, this_update=tu, next_update=nu,
                               number=k + 1, name="v%d" % k)
            name = "v%d.crl" % k
            shutil.copy(pem, os.path.join(self.www, name))
            names.append(name)
            with open(os.path.join(self.www, name), "rb") as f:
                self.etags[hashlib.sha256(f.read()).hexdigest()[:16]] = k
        with open(os.path.join(self.www, "sub.crl.schedule"), "w") as f:
            json.dump({"t0": self.t0, "cycle": self.cycle, "versions": names,
                       "down": list(self.down)}, f)
        self.sleep_until(self.t0 + 0.05)

    def stop(self):
        rcs = [d.stop() for d in self.daemons]
        if self.nginx is not None:
            stop_process(self.nginx)
        if self.origin is not None:
            self.origin.stop()
        return rcs

    # ---- observing ----

    def boundary(self, k):
        return self.t0 + k * self.cycle

    def sleep_until(self, t):
        left = t - time.time()
        if left > 0:
            time.sleep(left)

    def served(self):
        """{version: 200 answers of the origin}, and the raw counts."""
        counts = json.loads(http_get(self.origin.port, "/_counts"))
        per = {}
        for key, n in counts.items():
            if key.startswith("sub.crl@"):
                per[self.etags.get(key.split("@", 1)[1], -1)] = n
        return per, counts

    def cached(self, daemon):
        """The cache entry of the CDP in daemon's `show crls`, or None."""
        resp = daemon.call({"id": 1, "op": "show", "what": "crls"})
        for c in resp.get("show", {}).get("crls", []):
            if c.get("source") == CDP:
                return c
        return None

    def numbers(self):
        out = []
        for d in self.daemons:
            c = self.cached(d)
            out.append(int(c["crl_number"], 16) if c and c.get("crl_number") else None)
        return out

    def verify(self, daemon):
        """The verdict of one verify of the peer on daemon."""
        return daemon.call({"id": 1, "op": "verify", "trustpoint": "SUB",
                            "chain": [self.pki.peer.b64, self.pki.sub.b64]}).get("verdict")


class Load:
    """Verify requests on every daemon of a fleet, in a loop, each recorded as (wall time,
    latency, decision, evidence source of the peer's certificate)."""

    def __init__(self, fleet, interval):
        self.fleet, self.interval = fleet, interval
        self.samples = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(d,), daemon=True)
                        for d in fleet.daemons]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(30)

    def run(self, daemon):
        conn = daemon.connect()
        reader = helper.LineReader(conn)
        req = (json.dumps({"id": 1, "op": "verify", "trustpoint": "SUB",
                           "chain": [self.fleet.pki.peer.b64, self.fleet.pki.sub.b64]})
               + "\n").encode()
        try:
            while not self.stopping.is_set():
                t, m = time.time(), time.monotonic()
                conn.sendall(req)
                v = reader.read().get("verdict") or {}
                lat = time.monotonic() - m
                src = [e.get("source") for e in v.get("evidence", [])
                       if e.get("cert_index") == 0]
                with self.lock:
                    self.samples.append((t, lat, v.get("decision"), src[-1] if src else None))
                self.stopping.wait(self.interval)
        finally:
            conn.close()


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]
