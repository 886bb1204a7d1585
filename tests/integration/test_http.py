#!/usr/bin/env python3
"""test_http.py: certvald's HTTP front (daemon/http_front.c) with real servers on loopback,
started by the tests: a real nginx from Debian with TLS client authentication
(`ssl_verify_client optional_no_ca`) and `auth_request` to certvald's HTTP Unix socket, in
front of a trivial upstream (httpd_fault.py /headers), and curl --cert as the client.

Also: POST /v1/verify against the socket's verdict, the Envoy, Traefik and Caddy header formats
from captured examples, /metrics parsed by prometheus_client's own parser with its counters
checked against the requests sent, /healthz, and hostile clients on the HTTP port (huge
headers, an endless body, a thousand idle connections) while verdicts keep coming on the Unix
socket.
"""

import base64
import resource
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import testpki  # noqa: E402
from servers import Server, free_port, stop_process, wait_for  # noqa: E402
from testpki import days  # noqa: E402

SUPPORT = os.path.join(HERE, "..", "support")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CURL = shutil.which("curl")

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's python3-prometheus-client (pure Python) when python3 is not Debian's own
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:  # scripts/setup-deps.sh installs it
        text_string_to_metric_families = None


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket, as nginx reaches certvald."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def nginx_escape(pem):
    """nginx's $ssl_client_escaped_cert: the PEM, URL-encoded (ngx_escape_uri, component)."""
    return urllib.parse.quote(pem, safe="")


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log info;
{user}
events {{ worker_connections 256; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;

    upstream certval {{ server unix:{http_sock}; }}

    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {server_cert};
        ssl_certificate_key {server_key};
        ssl_verify_client optional_no_ca;

        location / {{
            auth_request /certval-auth;
            auth_request_set $certval_user $upstream_http_x_certval_user;
            auth_request_set $certval_tp $upstream_http_x_certval_trustpoint;
            auth_request_set $certval_attrs $upstream_http_x_certval_aaa_attributes;
            proxy_set_header X-Certval-User $certval_user;
            proxy_set_header X-Certval-Trustpoint $certval_tp;
            proxy_set_header X-Certval-Aaa-Attributes $certval_attrs;
            proxy_pass http://127.0.0.1:{upstream_port}/headers/;
        }}

        location = /certval-auth {{
            internal;
            proxy_pass http://certval/v1/auth?trustpoint=CORP;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Client-Cert $ssl_client_escaped_cert;
        }}
    }}
}}
"""


class HttpFrontTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-http-")
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("Corp Root CA", pathlen=1)
        pki.sub = pki.ca("Corp Issuing CA", issuer=pki.root, pathlen=0)
        pki.good = pki.leaf("alice", pki.sub, eku=("client",))
        pki.revoked = pki.leaf("mallory", pki.sub, eku=("client",))
        pki.expired = pki.leaf("bob", pki.sub, eku=("client",),
                               not_before=days(-60), not_after=days(-1))
        # valid today for nginx (which refuses an expired certificate itself, with 400,
        # before any auth_request), expired for certvald once its test clock moves 3 days
        pki.expiring = pki.leaf("carol", pki.sub, eku=("client",),
                                not_before=days(-60), not_after=days(2))
        pki.blocked = pki.leaf("blocked-contractor", pki.sub, eku=("client",))
        pki.other = pki.ca("Unknown Root CA")
        pki.foreign = pki.leaf("eve", pki.other, eku=("client",))
        pki.server = pki.leaf("localhost", pki.sub, dns=["localhost"], eku=("server",))
        cls.crl = pki.crl(pki.sub, revoked=[pki.revoked])
        # a second PKI whose leaves name their issuer in AIA caIssuers only
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.cdp = Server([os.path.join(SUPPORT, "httpd_fault.py"), "--root", cls.www])
        aia = "http://127.0.0.1:%d/file/" % cls.cdp.port
        pki.aroot = pki.ca("AIA Root CA", pathlen=1)
        pki.asub = pki.ca("AIA Issuing CA", issuer=pki.aroot, pathlen=0)
        with open(os.path.join(cls.www, "asub.der"), "wb") as f:
            f.write(pki.asub.der)
        pki.aleaf = pki.leaf("dave", pki.asub, eku=("client",),
                             extra=['ca_issuers_uri = "%sasub.der"' % aia])
        pki.abroken = pki.leaf("erin", pki.asub, eku=("client",),
                               extra=['ca_issuers_uri = "%smissing.der"' % aia])
        cls.pool = pki.chain_file("pool", [pki.sub])
        cls.http_sock = os.path.join(cls.dir, "http.sock")
        cls.http_port = free_port()
        cls.upstream = Server([os.path.join(SUPPORT, "httpd_fault.py")])
        cls.daemon = helper.Daemon(cls.dir, cls.config())
        cls.daemon.start()
        cls.nginx = None
        cls.tls_port = free_port()
        cls.start_nginx()

    @classmethod
    def config(cls, http_sock=None, http_port=None):
        glob = "\n".join([
            "http listen unix:%s" % (http_sock or cls.http_sock),
            "http listen 127.0.0.1:%d" % (http_port or cls.http_port),
            "http timeout 3",
            "http max-header 8192",
            "http max-body 16384",
            "intermediate-pool %s" % cls.pool,
            "crypto pki certificate map STAFF 10",
            " subject-name nc blocked",
            "aaa authorization list L local",
            "aaa attribute list default",
            " attribute type cert-application all",
        ])
        return helper.config_text(
            os.path.join(cls.dir, "unused.sock"),
            [("CORP", cls.pki.root.cert_path,
              ["revocation-check crl", "crl file %s" % cls.crl, "crl file %s" % cls.root_crl(),
               "match certificate STAFF", "authorization list L",
               "authorization username subjectname commonname"])],
            glob) + "\n".join([
                "crypto pki trustpoint AIA",
                " ca-certificate %s" % cls.pki.aroot.cert_path,
                " revocation-check none",
                " aia-fetch",
                "crypto pki trustpoint NOAIA",
                " ca-certificate %s" % cls.pki.aroot.cert_path,
                " revocation-check none", ""])

    @classmethod
    def root_crl(cls):
        if not hasattr(cls, "_root_crl"):
            cls._root_crl = cls.pki.crl(cls.pki.root)
        return cls._root_crl

    @classmethod
    def start_nginx(cls):
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(cls.dir, "tmp", sub), exist_ok=True)
        conf = os.path.join(cls.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(
                dir=cls.dir, http_sock=cls.http_sock, tls_port=cls.tls_port,
                user="user root;" if os.geteuid() == 0 else "",
                server_cert=cls.pki.server.cert_path, server_key=cls.pki.server.key_path,
                upstream_port=cls.upstream.port))
        cls.nginx = subprocess.Popen([NGINX, "-p", cls.dir, "-c", conf, "-e",
                                      os.path.join(cls.dir, "nginx-error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                socket.create_connection(("127.0.0.1", cls.tls_port), timeout=0.2).close()
                return True
            except OSError:
                return False
        if not wait_for(up, cls.nginx, 20):
            raise RuntimeError("nginx did not start:\n" + cls.read("nginx-error.log"))

    @classmethod
    def read(cls, name):
        try:
            with open(os.path.join(cls.dir, name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @classmethod
    def tearDownClass(cls):
        stop_process(cls.nginx)
        rc = cls.daemon.stop()
        cls.upstream.stop()
        cls.cdp.stop()
        helper.cleanup(cls.dir)
        if rc not in (0, None):
            raise AssertionError("certvald exited with %r" % rc)

    # -- helpers --

    def curl(self, cert=None):
        """curl --cert through nginx; returns (status, body)."""
        args = [CURL, "-sS", "-k", "-o", "-", "-w", "\n%{http_code}",
                "https://127.0.0.1:%d/app" % self.tls_port, "--max-time", "30"]
        if cert is not None:
            args += ["--cert", cert.cert_path, "--key", cert.key_path]
        res = subprocess.run(args, capture_output=True, text=True, timeout=60)
        body, _, code = res.stdout.rpartition("\n")
        return int(code or 0), body

    def auth(self, headers, query="", sock=None):
        """GET /v1/auth on certvald's Unix socket; returns the response (read)."""
        conn = UnixHTTPConnection(sock or self.http_sock)
        conn.request("GET", "/v1/auth" + query, headers=headers)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp

    def get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, body

    def socket_verdict(self, certs, **kw):
        req = {"id": 1, "op": "verify", "chain": [c.b64 for c in certs]}
        req.update(kw)
        return self.daemon.call(req)["verdict"]

    # -- nginx in front --

    def test_nginx_good_certificate_reaches_upstream_with_username(self):
        code, body = self.curl(self.pki.good)
        self.assertEqual(code, 200, body + self.read("nginx-error.log")[-2000:])
        self.assertIn("upstream says hello", body)
        self.assertIn("X-Certval-User: alice", body)
        self.assertIn("X-Certval-Trustpoint: CORP", body)
        self.assertIn("X-Certval-Aaa-Attributes: cert-application=all", body)

    def test_nginx_refusals(self):
        cases = {"revoked (CRL)": self.pki.revoked,
                 "refused by the certificate map": self.pki.blocked,
                 "unknown CA": self.pki.foreign}
        for what, cert in cases.items():
            with self.subTest(what):
                code, body = self.curl(cert)
                self.assertEqual(code, 403, body)
                self.assertNotIn("upstream says hello", body)

    def test_nginx_expired_refused_by_certvald(self):
        """A certificate nginx still takes as valid, expired at certvald's (moved) clock."""
        code, body = self.curl(self.pki.expiring)
        self.assertEqual(code, 200, body)  # the near miss: today it is valid
        self.set_clock(3 * 86400)
        try:
            code, body = self.curl(self.pki.expiring)
            self.assertEqual(code, 403, body)
            self.assertNotIn("upstream says hello", body)
        finally:
            self.set_clock(0)

    def set_clock(self, offset):
        resp = self.daemon.call({"id": 1, "op": "clock", "offset": offset})
        self.assertTrue(resp["ok"], resp)

    def test_nginx_no_certificate_is_refused(self):
        code, body = self.curl(None)
        self.assertEqual(code, 403, body)
        self.assertNotIn("upstream says hello", body)

    def test_nginx_client_cannot_send_its_own_certificate_header(self):
        """A client without a TLS certificate sends X-Client-Cert itself, and query parameters:
        nginx's proxy_set_header replaces the header and the subrequest has no client args."""
        args = [CURL, "-sS", "-k", "-o", "-", "-w", "\n%{http_code}", "--max-time", "30",
                "-H", "X-Client-Cert: " + nginx_escape(self.pki.good.pem),
                "-H", "X-Evil: " + self.pki.good.b64,
                "https://127.0.0.1:%d/app?format=caddy&header=X-Evil" % self.tls_port]
        res = subprocess.run(args, capture_output=True, text=True, timeout=60)
        body, _, code = res.stdout.rpartition("\n")
        self.assertEqual(int(code), 403, body)
        self.assertNotIn("upstream says hello", body)

    def test_nginx_daemon_down_refuses(self):
        """With certvald stopped the request is refused, never passed to the upstream."""
        self.daemon.stop()
        try:
            code, body = self.curl(self.pki.good)
            self.assertGreaterEqual(code, 500, body)
            self.assertNotIn("upstream says hello", body)
        finally:
            self.daemon.start()
        code, body = self.curl(self.pki.good)
        self.assertEqual(code, 200, body)

    # -- /v1/auth answers and headers --

    def test_auth_reasons_in_headers(self):
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.revoked.pem)}, "?trustpoint=CORP")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.getheader("X-Certval-Verdict"), "REJECT")
        self.assertEqual(r.getheader("X-Certval-Reason"), "revoked")
        self.assertIsNone(r.getheader("X-Certval-User"))
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.blocked.pem)})
        self.assertEqual(r.status, 403)
        self.assertEqual(r.getheader("X-Certval-Reason"), "not-authorized")
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.good.pem)})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("X-Certval-Verdict"), "ACCEPT")
        self.assertEqual(r.getheader("X-Certval-Map"), "STAFF")
        self.assertEqual(r.getheader("X-Certval-Revocation"), "good")
        self.assertEqual(r.getheader("X-Certval-User"), "alice")
        self.assertEqual(r.getheader("X-Certval-Aaa-Attributes"), "cert-application=all")

    def test_auth_leaf_only_needs_the_intermediate_pool(self):
        """nginx passes the leaf only: the issuing CA comes from intermediate-pool. Near miss:
        the same leaf through /v1/verify without the pool has no path."""
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.good.pem)})
        self.assertEqual(r.status, 200)
        v = self.socket_verdict([self.pki.good])
        self.assertEqual(v["reason"], "untrusted-issuer")

    def test_auth_bad_header_values_are_refused(self):
        for what, value in [("empty", ""), ("not PEM", "hello"),
                            ("broken escape", "%2-----BEGIN"),
                            ("truncated PEM", nginx_escape(self.pki.good.pem[:200]))]:
            with self.subTest(what):
                headers = {"X-Client-Cert": value} if value else {}
                r = self.auth(headers)
                self.assertEqual(r.status, 403)
                self.assertEqual(r.getheader("X-Certval-Verdict"), "REJECT")
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.good.pem)}, "?format=gopher")
        self.assertEqual(r.status, 403)

    def test_auth_any_method(self):
        """A proxy may keep the guarded request's method: /v1/auth reads headers only."""
        for method in ("PUT", "DELETE", "OPTIONS", "HEAD", "POST"):
            with self.subTest(method):
                conn = UnixHTTPConnection(self.http_sock)
                conn.request(method, "/v1/auth",
                             headers={"X-Client-Cert": nginx_escape(self.pki.good.pem)})
                resp = conn.getresponse()
                resp.read()
                conn.close()
                self.assertEqual(resp.status, 200)
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("PUT", "/metrics")
        self.assertEqual(conn.getresponse().status, 405)
        conn.close()

    def test_auth_unknown_trustpoint_is_no_accept(self):
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.good.pem)}, "?trustpoint=NOPE")
        self.assertNotEqual(r.status, 200)

    def test_auth_prefix_path_ignores_the_query(self):
        """Under /v1/auth/ (Envoy's path_prefix appends the client's path and query) only the
        configuration decides; on /v1/auth itself the administrator's query is honoured."""
        headers = {"X-Evil": self.pki.good.b64}
        r = self.auth(headers, "?format=caddy&header=X-Evil")
        self.assertEqual(r.status, 200)
        r = self.auth(headers, "/app?format=caddy&header=X-Evil")  # /v1/auth/app?...
        self.assertEqual(r.status, 403)
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.good.pem)}, "/app?x=1")
        self.assertEqual(r.status, 200)

    # -- AIA caIssuers for leaf-only peers (aia-fetch) --

    def downloads(self, name):
        conn = http.client.HTTPConnection("127.0.0.1", self.cdp.port, timeout=30)
        conn.request("GET", "/_count?path=/file/" + name)
        n = int(conn.getresponse().read())
        conn.close()
        return n

    def test_aia_fetch_finds_the_missing_issuer(self):
        before = self.downloads("asub.der")
        # near miss first: the trustpoint without aia-fetch downloads nothing
        v = self.socket_verdict([self.pki.aleaf], trustpoint="NOAIA")
        self.assertEqual(v["reason"], "untrusted-issuer")
        self.assertEqual([e for e in v["evidence"] if e["method"] == "aia"], [])
        self.assertEqual(self.downloads("asub.der"), before)
        # leaf only, through /v1/auth
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.aleaf.pem)}, "?trustpoint=AIA")
        self.assertEqual(r.status, 200, r.getheader("X-Certval-Reason"))
        self.assertEqual(self.downloads("asub.der"), before + 1)
        # the verdict names the fetch; the second time it comes from the cache
        v = self.socket_verdict([self.pki.aleaf], trustpoint="AIA")
        self.assertEqual(v["decision"], "ACCEPT")
        aia = [e for e in v["evidence"] if e["method"] == "aia"]
        self.assertEqual(len(aia), 1)
        self.assertTrue(aia[0]["url"].endswith("/file/asub.der"))
        self.assertEqual((aia[0]["outcome"], aia[0]["source"]), ("fetched", "cache"))
        self.assertEqual(self.downloads("asub.der"), before + 1)

    def test_aia_fetch_failure_is_named_and_refused(self):
        v = self.socket_verdict([self.pki.abroken], trustpoint="AIA")
        self.assertEqual(v["reason"], "untrusted-issuer")
        aia = [e for e in v["evidence"] if e["method"] == "aia"]
        self.assertEqual(len(aia), 1)
        self.assertEqual((aia[0]["outcome"], aia[0]["source"]), ("error", "download"))
        self.assertIn("404", aia[0]["error"])
        r = self.auth({"X-Client-Cert": nginx_escape(self.pki.abroken.pem)}, "?trustpoint=AIA")
        self.assertEqual(r.status, 403)

    # -- other proxies' formats, from captured examples --

    def test_envoy_xfcc(self):
        chain = nginx_escape(self.pki.good.pem + self.pki.sub.pem)
        leaf = nginx_escape(self.pki.good.pem)
        # as Envoy's forward_client_cert_details APPEND_FORWARD writes it (docs example
        # shape): a forged element from the client first, the proxy's own element last
        forged = 'By=spiffe://x;Cert="%s"' % nginx_escape(self.pki.foreign.pem)
        xfcc = ('%s,By=spiffe://cluster.local/ns/default/sa/front;'
                'Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;'
                'Cert="%s";Chain="%s";Subject="CN=alice,O=certval tests";URI=;DNS=alice'
                % (forged, leaf, chain))
        r = self.auth({"X-Forwarded-Client-Cert": xfcc}, "?format=envoy")
        self.assertEqual(r.status, 200, r.getheader("X-Certval-Error"))
        self.assertEqual(r.getheader("X-Certval-User"), "alice")
        # the last element decides: the forged one alone is refused
        r = self.auth({"X-Forwarded-Client-Cert": "By=a;Cert=\"%s\"" % leaf + "," + forged},
                      "?format=envoy")
        self.assertEqual(r.status, 403)
        r = self.auth({"X-Forwarded-Client-Cert": "By=spiffe://x;Hash=abc"}, "?format=envoy")
        self.assertEqual(r.status, 403)

    def test_traefik_header(self):
        # passTLSClientCert pem: base64 DER without PEM lines, comma-separated, URL-escaped
        value = ",".join(urllib.parse.quote(c.b64, safe="")
                         for c in (self.pki.good, self.pki.sub))
        r = self.auth({"X-Forwarded-Tls-Client-Cert": value}, "?format=traefik")
        self.assertEqual(r.status, 200, r.getheader("X-Certval-Error"))
        r = self.auth({"X-Forwarded-Tls-Client-Cert": urllib.parse.quote(
            self.pki.revoked.b64, safe="")}, "?format=traefik")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.getheader("X-Certval-Reason"), "revoked")
        r = self.auth({"X-Forwarded-Tls-Client-Cert": "not base64!"}, "?format=traefik")
        self.assertEqual(r.status, 403)

    def test_caddy_header(self):
        # header_up X-Client-Cert {http.request.tls.client.certificate_der_base64}
        r = self.auth({"X-Client-Cert": self.pki.good.b64}, "?format=caddy")
        self.assertEqual(r.status, 200, r.getheader("X-Certval-Error"))
        r = self.auth({"X-Client-Cert": self.pki.expired.b64}, "?format=caddy")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.getheader("X-Certval-Reason"), "expired")

    # -- POST /v1/verify: the socket protocol over HTTP --

    def test_verify_same_verdict_as_socket(self):
        req = {"id": "h1", "op": "verify", "chain": [self.pki.good.b64, self.pki.sub.b64],
               "purpose": "client"}
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("POST", "/v1/verify", body=json.dumps(req),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        over_http = json.loads(resp.read())
        conn.close()
        self.assertEqual(resp.status, 200)
        over_socket = self.daemon.call(req)
        self.assertEqual(over_http["id"], "h1")
        for key in ("decision", "reason", "trustpoint", "map", "revocation", "aaa_username",
                    "aaa_attributes"):
            self.assertEqual(over_http["verdict"][key], over_socket["verdict"][key], key)
        self.assertEqual(over_http["verdict"]["decision"], "ACCEPT")

    def post_verify(self, req):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("POST", "/v1/verify", body=json.dumps(req))
        resp = conn.getresponse()
        out = json.loads(resp.read())
        conn.close()
        self.assertEqual(resp.status, 200, out)
        return out

    def test_verify_shares_the_sockets_caches(self):
        """/v1/verify answers a seen chain from the verdict cache and reads certificates
        through the parsed-certificate cache, as the socket does (issue 13)."""
        # NOAIA: revocation-check none and no AAA, so that the verdict is cacheable
        req = {"id": "c1", "op": "verify", "chain": [self.pki.aleaf.b64, self.pki.asub.b64],
               "purpose": "client", "trustpoint": "NOAIA", "detail": "verdict"}
        first = self.post_verify(req)
        self.assertEqual(first["verdict"]["decision"], "ACCEPT")
        stats = lambda: self.daemon.call({"id": "s", "op": "stats"})["stats"]  # noqa: E731
        status = lambda: self.daemon.call({"id": "s", "op": "status"})["status"]  # noqa: E731
        before = stats()
        again = [self.post_verify(dict(req, id="c%d" % i)) for i in range(2, 5)]
        after = stats()
        self.assertEqual([r["id"] for r in again], ["c2", "c3", "c4"])
        for r in again:
            self.assertEqual(r["verdict"]["decision"], first["verdict"]["decision"])
            self.assertEqual(r["verdict"]["reason"], first["verdict"]["reason"])
        hits = lambda st: st["verdict_cache"]["hits"]  # noqa: E731
        self.assertGreaterEqual(hits(after) - hits(before), 3)
        # another purpose is another key: evaluated, with both certificates already parsed
        parsed = lambda: status()["parsed_certificates"]["hits"]  # noqa: E731
        parsed_before = parsed()
        other = self.post_verify(dict(req, id="c5", purpose="server"))
        self.assertIn(other["verdict"]["decision"], ("ACCEPT", "REJECT"))
        self.assertGreaterEqual(parsed() - parsed_before, 2)

    def test_verify_detail_level(self):
        """The request's "detail" holds over HTTP as on the socket: one protocol."""
        req = {"id": "h2", "op": "verify", "chain": [self.pki.good.b64, self.pki.sub.b64],
               "purpose": "client", "detail": "verdict"}
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("POST", "/v1/verify", body=json.dumps(req))
        resp = conn.getresponse()
        verdict = json.loads(resp.read())["verdict"]
        conn.close()
        self.assertEqual(resp.status, 200)
        self.assertEqual(verdict["decision"], "ACCEPT")
        for key in ("path", "evidence", "trace"):
            self.assertNotIn(key, verdict)
        req["detail"] = "everything"
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("POST", "/v1/verify", body=json.dumps(req))
        resp = conn.getresponse()
        out = json.loads(resp.read())
        conn.close()
        self.assertEqual(resp.status, 400)
        self.assertEqual(out["error"]["code"], "bad-request")

    def test_verify_errors(self):
        for body, code, err in [(b"{not json", 400, "bad-request"),
                                (b'{"id":1,"op":"verify"}', 400, "bad-request"),
                                (b'{"id":1,"op":"stats"}', 403, "forbidden"),
                                (b'{"id":1,"op":"nope"}', 400, "unknown-op")]:
            with self.subTest(body=body):
                conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
                conn.request("POST", "/v1/verify", body=body)
                resp = conn.getresponse()
                out = json.loads(resp.read())
                conn.close()
                self.assertEqual(resp.status, code)
                self.assertFalse(out["ok"])
                self.assertEqual(out["error"]["code"], err)
        status, _ = self.get("/v1/verify")
        self.assertEqual(status, 405)
        status, _ = self.get("/nothing-here")
        self.assertEqual(status, 404)

    # -- /healthz and /metrics --

    def test_healthz(self):
        status, body = self.get("/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"ok\n")

    def metrics(self):
        status, body = self.get("/metrics")
        self.assertEqual(status, 200)
        samples = {}
        for fam in text_string_to_metric_families(body.decode()):
            for s in fam.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return samples

    @unittest.skipIf(text_string_to_metric_families is None, "python3-prometheus-client missing")
    def test_metrics_count_the_requests_sent(self):
        before = self.metrics()

        def delta(name, **labels):
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0) - before.get(key, 0)
        good = nginx_escape(self.pki.good.pem)
        for _ in range(3):
            self.assertEqual(self.auth({"X-Client-Cert": good}).status, 200)
        for _ in range(2):
            self.assertEqual(self.auth({"X-Client-Cert": nginx_escape(
                self.pki.revoked.pem)}).status, 403)
        self.assertEqual(self.auth({"X-Client-Cert": nginx_escape(
            self.pki.expired.pem)}).status, 403)
        self.assertEqual(self.auth({}).status, 403)  # no certificate: no verdict counted
        self.socket_verdict([self.pki.good, self.pki.sub])  # the socket counts too
        after = self.metrics()
        self.assertEqual(delta("certval_verdicts_total", decision="accept", reason="none"), 4)
        self.assertEqual(delta("certval_verdicts_total", decision="reject", reason="revoked"), 2)
        self.assertEqual(delta("certval_verdicts_total", decision="reject", reason="expired"), 1)
        self.assertEqual(delta("certval_requests_total"), 7)
        self.assertEqual(delta("certval_verdict_latency_seconds_count"), 7)
        self.assertEqual(delta("certval_verdict_latency_seconds_bucket", le="+Inf"), 7)
        self.assertEqual(delta("certval_http_auth_responses_total", code="200"), 3)
        self.assertEqual(delta("certval_http_auth_responses_total", code="403"), 4)
        self.assertEqual(delta("certval_http_requests_total", route="/v1/auth"), 7)
        self.assertEqual(after[("certval_requests_in_flight", ())], 0)
        file_host = (("host", "file"),)
        self.assertEqual(after[("certval_crls_cached", file_host)], 2)  # sub's and root's
        self.assertEqual(after[("certval_crl_entries", file_host)], 1)  # mallory
        self.assertGreater(after[("certval_crl_next_update_seconds", file_host)], 0)
        self.assertGreater(after[("certval_crl_age_seconds", file_host)], 0)
        self.assertGreater(delta("certval_link_cache_hits_total"), 0)
        # no serial, subject or other unbounded value as a label
        for name, labels in after:
            for k, v in labels:
                self.assertIn(k, ("decision", "reason", "le", "host", "route", "code"), name)

    # -- hostile clients on the HTTP port --

    def test_hostile_clients_do_not_stop_socket_verdicts(self):
        """Huge headers, an endless body and a thousand idle connections on the HTTP port of a
        certvald started with a soft limit of 256 open files (the hard one higher, as under
        systemd): the Unix socket still takes new clients and gives verdicts."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2048:
            self.skipTest("hard limit on open files too low: %d" % hard)
        d = os.path.join(self.dir, "hostile")
        os.makedirs(d)
        port = free_port()
        # idle clients are not timed out during the test: they hold their descriptors
        conf = self.config(os.path.join(d, "http.sock"), port).replace(
            "http timeout 3\n", "http timeout 600\n")
        self.assertIn("http timeout 600", conf)
        daemon = helper.Daemon(d, conf)
        daemon.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        daemon.start()
        idle = []
        try:
            for _ in range(1000):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.connect(("127.0.0.1", port))
                idle.append(s)
            # an endless body: Content-Length beyond the cap, bytes trickling
            endless = socket.create_connection(("127.0.0.1", port))
            endless.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 100000000\r\n\r\n" + b"x" * 1000)
            idle.append(endless)
            # huge headers: answered with an error, never a verdict
            huge = socket.create_connection(("127.0.0.1", port), timeout=30)
            huge.sendall(b"GET /v1/auth HTTP/1.1\r\nHost: x\r\nX-Client-Cert: "
                         + b"A" * 20000 + b"\r\n\r\n")
            reply = huge.recv(4096)
            huge.close()
            self.assertFalse(reply.startswith(b"HTTP/1.1 200"), reply[:80])
            # a new client on the Unix socket gets its verdict, and so does the HTTP front
            req = {"id": 1, "op": "verify",
                   "chain": [self.pki.good.b64, self.pki.sub.b64]}
            self.assertEqual(daemon.call(req, timeout=20)["verdict"]["decision"], "ACCEPT")
            r = self.auth({"X-Client-Cert": nginx_escape(self.pki.good.pem)},
                          sock=os.path.join(d, "http.sock"))
            self.assertEqual(r.status, 200)
        finally:
            for s in idle:
                s.close()
            rc = daemon.stop()
        self.assertEqual(rc, 0, daemon.log_text()[-2000:])

if __name__ == "__main__":
    unittest.main(verbosity=2)
