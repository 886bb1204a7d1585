#!/usr/bin/env python3
"""test_admin.py: certvalctl's administrator commands against a real certvald (R50-R58,
O-3, O-24, D-6): show crls, timers, trustpoints [status], certificates, ocsp, fetch,
running-config; clear crls, clear ocsp; stats; refusal for non-administrators; expiry notices
of trustpoint CA certificates in the daemon's log.

A real HTTP CDP (httpd_fault.py) and a real OCSP responder (openssl ocsp) run on loopback; the
daemon's test clock moves time.
"""

import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import testpki  # noqa: E402
from servers import Server, free_port, http_get, wait_for  # noqa: E402
from testpki import days, openssl_index_line  # noqa: E402

SUPPORT = os.path.join(HERE, "..", "support")
OUTSIDER = (4321, 4321)  # no passwd entry, not in the admin group
IOS_TIME = r"\d\d:\d\d:\d\d GMT [A-Z][a-z]{2} \d{1,2} \d{4}"
ALERT = "%SECURITY-CEPKI-1-CERT_EXPIRING_ALERT"
WARNING = "%SECURITY-CEPKI-4-CERT_EXPIRING_WARNING"
LEFT = r"Time Left= (\d+) days, (\d+) hours, (\d+) minutes, (\d+) seconds"


def iso(text):
    """Unix seconds of an ISO 8601 UTC time as the daemon writes it."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def colon_serial(serial):
    h = "%X" % serial
    if len(h) % 2:
        h = "0" + h
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


class AdminTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-adm-")
        www = os.path.join(cls.dir, "www")
        os.makedirs(www)
        cls.httpd = Server([os.path.join(SUPPORT, "httpd_fault.py"), "--root", www])
        cls.ocsp_port = free_port()
        cls.cdp = "http://127.0.0.1:%d/file/sub.crl" % cls.httpd.port
        cls.dead_cdp = "http://127.0.0.1:%d/sub.crl" % free_port()
        cls.ocsp_url = "http://127.0.0.1:%d/" % cls.ocsp_port

        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("Adm Root CA")
        pki.sub = pki.ca("Adm Sub CA", issuer=pki.root, pathlen=0)
        pki.good = pki.leaf("good.example", pki.sub, crl_url=cls.cdp, ocsp_url=cls.ocsp_url)
        pki.dead = pki.leaf("dead.example", pki.sub, crl_url=cls.dead_cdp)
        # D-6: a CRL without nextUpdate at its own CDP
        pki.nonext = pki.leaf("nonext.example", pki.sub,
                              crl_url="http://127.0.0.1:%d/file/nonext.crl" % cls.httpd.port)
        pki.near = pki.ca("Adm Near CA", not_after=days(3))
        pki.month = pki.ca("Adm Month CA", not_after=days(30))
        pki.pool = pki.ca("Adm Pool CA", not_after=days(3))
        pki.other = pki.ca("Adm Other CA")
        shutil.copy(pki.crl(pki.sub, name="sub"), os.path.join(www, "sub.crl"))
        testpki.crl_without_next_update(pki.crl(pki.sub, name="nonext-src"), pki.sub,
                                        os.path.join(www, "nonext.crl"))
        cls.root_crl = pki.crl(pki.root, name="root")
        with open(os.path.join(cls.dir, "index.txt"), "w") as f:
            f.write(openssl_index_line(pki.good))
        cls.ocsp = Server([os.path.join(SUPPORT, "ocsp_responder.py"), "--dir", cls.dir,
                           "--index", "index.txt", "--ca", pki.sub.cert_path,
                           "--rsigner", pki.sub.cert_path, "--rkey", pki.sub.key_path,
                           "--port", str(cls.ocsp_port)])
        cls.tps = {
            "ROOT": (pki.root, ["revocation-check crl", "crl file %s" % cls.root_crl,
                                "primary"]),
            "SUB": (pki.sub, ["revocation-check crl"]),
            "OCSP": (pki.sub, ["revocation-check ocsp", "ocsp cache-lifetime 300"]),
            "NEAR": (pki.near, ["revocation-check none"]),
            "MONTH": (pki.month, ["revocation-check none"]),
            "BADFP": (pki.other, ["revocation-check none", "fingerprint " + "AB" * 20]),
        }

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        cls.ocsp.stop()
        helper.cleanup(cls.dir)

    def setUp(self):
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            rc = self.daemon.stop()
            self.assertEqual(rc, 0, "certvald did not exit cleanly:\n" + self.daemon.log_text())

    # ---- helpers ----

    def start(self, names, extra_global="fetch retry-after 0"):
        d = helper.daemon_dir(self.dir)
        text = helper.config_text(os.path.join(d, "certvald.sock"),
                                  [(n, self.tps[n][0].cert_path, self.tps[n][1]) for n in names],
                                  extra_global)
        self.daemon = helper.Daemon(d, text).start()
        return self.daemon

    def ctl(self, *args, status=0, user=None):
        r = self.daemon.ctl(*args, user=user)
        self.assertEqual(r.returncode, status, "certvalctl %s: %s %s" % (args, r.stdout, r.stderr))
        return r.stdout

    def ctl_json(self, *args):
        return json.loads(self.ctl(*(list(args) + ["--json"])))

    def verify(self, leaf, tp, rid=1):
        resp = self.daemon.call({"id": rid, "op": "verify", "trustpoint": tp,
                                 "chain": [leaf.b64, self.pki.sub.b64]})
        self.assertTrue(resp.get("ok"), resp)
        return resp["verdict"]

    def clock(self, offset):
        resp = self.daemon.call({"id": "c", "op": "clock", "offset": offset})
        self.assertTrue(resp["ok"], resp)

    def count(self, path):
        return int(http_get(self.httpd.port, "/_count?path=" + path).strip() or 0)

    def log_lines(self, marker):
        return [line for line in self.daemon.log_text().splitlines() if marker in line]

    def assert_left(self, line, tp):
        """The notice's Time Left is the trustpoint CA's notAfter minus the daemon's clock."""
        m = re.search(LEFT + "$", line)
        left = (int(m.group(1)) * 86400 + int(m.group(2)) * 3600 + int(m.group(3)) * 60
                + int(m.group(4)))
        v = self.ctl_json("show", "trustpoints", tp)
        expected = iso(v["trustpoints"][0]["certificates"][0]["not_after"]) - iso(v["now"])
        self.assertLessEqual(abs(left - expected), 30, line)  # slack for slow machines

    # ---- show crls (R50, O-5, D-6) ----

    def test_show_crls_after_fetch(self):
        self.start(["SUB"])
        self.assertEqual(self.ctl("show", "crls"), "")  # an empty cache prints nothing
        self.assertEqual(self.verify(self.pki.good, "SUB")["decision"], "ACCEPT")
        out = self.ctl("show", "crls")
        for label in ("CRL Issuer Name:", "LastUpdate:", "NextUpdate:",
                      "Retrieved from CRL Distribution Point:"):
            self.assertEqual(out.count(label), 1, out)
        lines = out.splitlines()
        self.assertEqual(lines[0], "CRL Issuer Name:")
        self.assertEqual(lines[1].strip(), "CN=Adm Sub CA,O=certval tests")
        self.assertRegex(out, r"\n  LastUpdate: %s\n  NextUpdate: %s\n" % (IOS_TIME, IOS_TIME))
        i = lines.index("  Retrieved from CRL Distribution Point:")
        self.assertEqual(lines[i + 1].strip(), self.cdp)
        v = self.ctl_json("show", "crls")
        self.assertEqual(len(v["crls"]), 1)
        crl = v["crls"][0]
        self.assertEqual((crl["kind"], crl["url"], crl["trustpoint"]), ("cache", self.cdp, "SUB"))
        self.assertEqual(crl["entries"], 0)
        self.assertGreater(crl["bytes"], 100)
        self.assertEqual(crl["cache_policy"], "next-update")
        self.assertEqual(crl["expires"], crl["next_update"])
        self.assertIsNone(crl["warning"])

    def test_crl_without_next_update_is_warned(self):
        """D-6, O-6: a CRL without nextUpdate is used and kept (until cleared, a manual
        request or a restart without cache-dir), and `show crls` says so."""
        self.start(["ROOT", "SUB"])
        v = self.verify(self.pki.nonext, "SUB")
        self.assertEqual((v["decision"], v["revocation"]), ("ACCEPT", "good"), v["message"])
        ev = [e for e in v["evidence"] if e["cert_index"] == 0][-1]
        self.assertIsNone(ev["next_update"])
        crls = {c["url"]: c for c in self.ctl_json("show", "crls", "SUB")["crls"]}
        crl = crls["http://127.0.0.1:%d/file/nonext.crl" % self.httpd.port]
        self.assertIn("no nextUpdate", crl["warning"])
        self.assertIsNone(crl["expires"])
        self.assertIn("Warning: the CRL has no nextUpdate", self.ctl("show", "crls"))
        # the same peer again: the cached CRL answers, nothing is downloaded
        before = self.count("/file/nonext.crl")
        self.assertEqual(self.verify(self.pki.nonext, "SUB", rid=2)["decision"], "ACCEPT")
        self.assertEqual(self.count("/file/nonext.crl"), before)

    def test_show_crls_delete_after_and_files(self):
        """O-5: NextUpdate is the delete-after deadline; `crl file` CRLs are listed as files."""
        self.tps["SUBDA"] = (self.pki.sub, ["revocation-check crl", "crl-cache delete-after 5"])
        self.start(["ROOT", "SUBDA"])
        out = self.ctl("show", "crls")
        self.assertIn("Loaded from file:\n    %s" % self.root_crl, out)
        self.assertNotIn("Retrieved from CRL Distribution Point:", out)
        self.verify(self.pki.good, "SUBDA")
        v = self.ctl_json("show", "crls", "SUBDA")
        self.assertEqual([c["kind"] for c in v["crls"]], ["cache"])
        crl = v["crls"][0]
        self.assertTrue(crl["delete_after"])
        self.assertEqual(crl["cache_policy"], "delete-after 5")
        self.assertEqual(iso(crl["expires"]) - iso(crl["fetched_at"]), 300)
        self.assertEqual([c["kind"] for c in self.ctl_json("show", "crls", "ROOT")["crls"]],
                         ["file"])
        self.ctl("show", "crls", "NOPE", status=2)

    # ---- show timers (R51) ----

    def test_show_timers(self):
        self.start(["SUB"])
        out = self.ctl("show", "timers")
        self.assertTrue(out.startswith("PKI Timers\n"))
        self.assertNotIn(" CRL ", out)
        self.verify(self.pki.good, "SUB")
        crl = self.ctl_json("show", "crls")["crls"][0]
        left = iso(crl["expires"]) - iso(self.ctl_json("show", "timers")["now"])
        # move the clock so that 1 h 30 min (and 40 s of slack) remain
        self.clock(left - 5440)
        out = self.ctl("show", "timers")
        lines = out.splitlines()
        self.assertEqual(lines[0], "PKI Timers")
        crl_lines = [line for line in lines if " CRL " in line]
        self.assertEqual(len(crl_lines), 1, out)
        self.assertRegex(crl_lines[0], r"^\| 0d01:30:[0-4]\d\.000 CRL " + re.escape(self.cdp) + "$")
        self.assertEqual(lines[1], crl_lines[0])  # the soonest first
        before = self.ctl_json("show", "timers")["timers"][0]["remaining_ms"]
        self.clock(left - 600)
        after = self.ctl_json("show", "timers")["timers"][0]["remaining_ms"]
        self.assertAlmostEqual(before - after, 4840 * 1000, delta=5000)
        self.assertRegex(self.ctl("show", "timers"), r"\| 0d00:(09|10):\d\d\.000 CRL ")
        self.clock(left + 60)  # the CRL has expired: its timer is gone
        self.assertNotIn(" CRL ", self.ctl("show", "timers"))
        self.assertEqual(self.ctl_json("show", "crls")["crls"], [])

    # ---- clear crls (O-3) ----

    def test_clear_crls(self):
        self.start(["SUB"])
        http_get(self.httpd.port, "/_reset")
        self.verify(self.pki.good, "SUB")
        self.verify(self.pki.good, "SUB", rid=2)
        self.assertEqual(self.count("/file/sub.crl"), 1)
        self.assertEqual(self.ctl("clear", "crls"), "1 cached CRLs dropped\n")
        self.assertEqual(self.ctl("show", "crls"), "")
        self.assertEqual(self.verify(self.pki.good, "SUB", rid=3)["decision"], "ACCEPT")
        self.assertEqual(self.count("/file/sub.crl"), 2)
        self.assertEqual(self.ctl_json("clear", "crls", "SUB")["cleared"], 1)
        self.assertEqual(self.ctl_json("clear", "crls", "SUB")["cleared"], 0)
        self.ctl("clear", "crls", "NOPE", status=2)
        self.assertEqual(len(self.log_lines("cached CRLs dropped")), 3)

    # ---- show ocsp, clear ocsp ----

    def test_show_and_clear_ocsp(self):
        self.start(["OCSP"])
        self.assertEqual(self.ctl("show", "ocsp"), "")
        self.assertEqual(self.verify(self.pki.good, "OCSP")["decision"], "ACCEPT")
        out = self.ctl("show", "ocsp")
        self.assertIn("OCSP Responder:\n  %s\n" % self.ocsp_url, out)
        self.assertIn("Subject: CN=good.example,O=certval tests", out)
        self.assertIn("Status: good", out)
        self.assertRegex(out, "Produced At: " + IOS_TIME)
        answers = self.ctl_json("show", "ocsp")["answers"]
        self.assertEqual(len(answers), 1)
        self.assertEqual((answers[0]["url"], answers[0]["status"]), (self.ocsp_url, "good"))
        self.assertEqual(self.ctl("clear", "ocsp"), "1 cached OCSP answers dropped\n")
        self.assertEqual(self.ctl("show", "ocsp"), "")
        self.assertEqual(self.ctl_json("stats")["ocsp_cache"]["entries"], 0)

    # ---- show fetch, stats ----

    def test_show_fetch_and_stats(self):
        self.start(["SUB"], extra_global="fetch retry-after 600")
        self.assertEqual(self.verify(self.pki.good, "SUB")["decision"], "ACCEPT")
        v = self.verify(self.pki.dead, "SUB", rid=2)
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", "revocation-unavailable"))
        self.verify(self.pki.dead, "SUB", rid=3)  # answered from the negative cache
        out = self.ctl("show", "fetch")
        self.assertIn("URL %s\n  State: failed\n  Last error: " % self.dead_cdp, out)
        self.assertIn("URL %s\n  State: ok\n  Last error: none\n  Latency: " % self.cdp, out)
        self.assertIn("No retry before: ", out)
        urls = {u["url"]: u for u in self.ctl_json("show", "fetch")["urls"]}
        self.assertEqual(urls[self.dead_cdp]["state"], "failed")
        self.assertTrue(urls[self.dead_cdp]["last_error"])
        self.assertIsNone(urls[self.cdp]["last_error"])

        st = self.ctl_json("stats")
        self.assertEqual((st["engine"]["requests"], st["engine"]["accepted"],
                          st["engine"]["rejected"]), (3, 1, 2))
        self.assertEqual(st["engine"]["by_reason"]["revocation-unavailable"], 2)
        self.assertEqual(st["crl_cache"]["entries"], 1)
        self.assertEqual(st["fetch"]["transfers"], 2)
        self.assertEqual(st["fetch"]["failed"], 1)
        self.assertEqual(st["fetch"]["negative_hits"], 1)
        self.assertGreater(st["fetch"]["bytes"], 100)
        out = self.ctl("stats")
        self.assertIn("Requests: 3 (accepted 1, rejected 2, failed open 0)", out)
        self.assertIn("revocation-unavailable", out)
        self.assertIn("CRL cache: 1 cached, 0 from files", out)
        # request-timeout 5 is shorter than fetch timeout 10: each CDP fetch is the background
        # walk's (R17, O-23), which the request joins
        self.assertRegex(out, r"Fetches: \d+ started, 2 downloads, 2 coalesced, 1 completed, "
                              r"1 failed, 1 negative-cache hits")

        # clear crls also forgets the failure: the dead CDP is tried again at once
        self.ctl("clear", "crls")
        self.verify(self.pki.dead, "SUB", rid=4)
        self.assertEqual(self.ctl_json("stats")["fetch"]["transfers"], 3)

    # ---- show trustpoints [status] (R52, R4), certificates (R53), running-config ----

    def test_show_trustpoints(self):
        self.start(["ROOT", "BADFP", "NEAR"])
        out = self.ctl("show", "trustpoints")
        self.assertIn("Trustpoint ROOT:\n  Subject Name:\n    CN=Adm Root CA\n"
                      "    O=certval tests\n    Serial Number: %X\n  Certificate configured.\n"
                      "  CRL query url: none\n  Primary trustpoint.\n" % self.pki.root.serial,
                      out)
        self.assertIn("Trustpoint BADFP:", out)
        out = self.ctl("show", "trustpoints", "ROOT", "status")
        self.assertNotIn("BADFP", out)
        self.assertTrue(out.startswith("Trustpoint ROOT:\n  Issuing CA certificate configured:\n"
                                       "    Subject Name:\n      CN=Adm Root CA,O=certval tests\n"
                                       "    Fingerprint: "), out)
        self.assertIn("  State:\n    Issuing CA authenticated ..... Yes\n", out)
        self.assertIn("Primary trustpoint ..... Yes", out)
        self.assertRegex(out, r"Fingerprint: [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8}\n")
        out = self.ctl("show", "trustpoints", "BADFP", "status")
        self.assertIn("Issuing CA authenticated ..... No", out)
        self.assertIn("Primary trustpoint ..... No", out)
        out = self.ctl("show", "trustpoints", "NEAR", "status")
        self.assertIn("(2 days left)", out)
        self.assertRegex(out, "Expiry notice: alert mode, last sent " + IOS_TIME)
        tp = self.ctl_json("show", "trustpoints", "status")["trustpoints"]
        self.assertEqual([t["name"] for t in tp], ["ROOT", "BADFP", "NEAR"])
        self.assertEqual([t["authenticated"] for t in tp], [True, False, True])
        self.assertEqual(tp[2]["certificates"][0]["expiry"]["last_notice"]["mode"], "alert")
        self.assertIsNone(tp[0]["certificates"][0]["expiry"]["last_notice"])
        self.ctl("show", "trustpoints", "NOPE", status=2)

    def test_show_certificates_and_running_config(self):
        self.start(["ROOT", "SUB", "BADFP"],
                   extra_global="aaa group server radius RAD\n server 127.0.0.1 key s3cr3t-k3y")
        out = self.ctl("show", "certificates", "ROOT", "verbose")
        for label in ("CA Certificate", "Status: Available", "Certificate Serial Number:",
                      "Certificate Usage:", "Issuer:", "Subject:", "Validity Date:",
                      "start date:", "end   date:", "Associated Trustpoints: ROOT", "Version: 3",
                      "Subject Key Info:", "Signature Algorithm:", "Fingerprint MD5:",
                      "Fingerprint SHA1:", "X509v3 Key Usage:", "X509v3 Subject Key ID:",
                      "X509v3 Basic Constraints:\n      CA: TRUE", "Authority Info Access:"):
            self.assertIn(label, out)
        self.assertRegex(out, r"Fingerprint SHA1: ([0-9A-F]{8} ){4}[0-9A-F]{8}\n")
        out = self.ctl("show", "certificates")
        self.assertEqual(out.count("CA Certificate"), 2)  # ROOT and SUB; BADFP not authenticated
        self.assertNotIn("Fingerprint MD5", out)
        self.assertIn("CN=Adm Sub CA", out)
        self.ctl("show", "certificates", "verbose", status=2)  # R53: verbose needs a trustpoint
        out = self.ctl("show", "running-config")
        self.assertIn("crypto pki trustpoint SUB\n", out)
        self.assertIn(self.pki.sub.cert_path, out)
        self.assertIn("aaa group server radius RAD\n server 127.0.0.1 key <hidden>\n", out)
        self.assertNotIn("s3cr3t", out)

    def test_running_config_hides_every_secret(self):
        """Each secret-bearing command shows `<hidden>` and no part of its secret: RADIUS
        keys (quoted with spaces, containing or equal to the word key, after auth-port) and
        the credentials of URLs (fetch proxy, ocsp url, crl query, the ldap server, match
        overrides), in trustpoints and in the trustpool."""
        sub = self.pki.sub.cert_path
        secrets = [
            "aaa group server radius R1\n server 127.0.0.1 key \"Zq1a key Zq1b\"",
            "aaa group server radius R2\n server 127.0.0.2 key key",
            "aaa group server radius R3\n server ::1 auth-port 1813 key \"Zq3 key\"",
            "aaa group server radius R4\n server 127.0.0.4 key \"Zq4a\\\" key \\\\Zq4b !\"",
            "aaa group server radius R5\n server 127.0.0.5 key Zq5-key",
            "aaa group server ldap L1\n server ldap://Zq6u:Zq6p@127.0.0.1:389",
            "fetch proxy http://Zq7u:Zq7p@127.0.0.1:3128",
            "crypto pki certificate map M 1\n subject-name co x",
            "crypto pki trustpoint CREDS\n ca-certificate %s\n revocation-check none\n"
            " ocsp url http://Zq8u:Zq8p@127.0.0.1/\n crl query ldap://Zq9@127.0.0.1\n"
            " match certificate M override ocsp 1 url https://Zq10:Zq10p@127.0.0.1/\n"
            " match certificate M override cdp url http://Zq11:p@ss@127.0.0.1/c.crl" % sub,
            "crypto pki trustpool policy\n ocsp url http://Zq12u:Zq12p@127.0.0.1/",
        ]
        self.start(["SUB"], extra_global="\n".join(secrets))
        out = self.ctl("show", "running-config")
        for line in (" server 127.0.0.1 key <hidden>\n", " server 127.0.0.2 key <hidden>\n",
                     " server ::1 auth-port 1813 key <hidden>\n",
                     " server 127.0.0.4 key <hidden>\n", " server 127.0.0.5 key <hidden>\n",
                     " server ldap://<hidden>@127.0.0.1:389\n",
                     "fetch proxy http://<hidden>@127.0.0.1:3128\n",
                     " ocsp url http://<hidden>@127.0.0.1/\n",
                     " crl query ldap://<hidden>@127.0.0.1\n",
                     " match certificate M override ocsp 1 url https://<hidden>@127.0.0.1/\n",
                     " match certificate M override cdp url http://<hidden>@127.0.0.1/c.crl\n"):
            self.assertIn(line, out)
        self.assertEqual(out.count("<hidden>"), 12, out)
        self.assertNotIn("Zq", out)
        self.assertNotIn("key key", out)
        self.assertNotIn("ss@", out)
        # the JSON view carries the same redacted text, and the daemon's log no secret
        self.assertEqual(self.ctl_json("show", "running-config")["text"], out)
        self.assertNotIn("Zq", self.daemon.log_text())

    # ---- access (SO_PEERCRED) ----

    def test_non_admin_refused(self):
        self.start(["SUB"])
        for args in (["show", "crls"], ["show", "ocsp"], ["show", "fetch"],
                     ["show", "trustpoints"], ["show", "trustpoints", "status"],
                     ["show", "timers"], ["show", "running-config"], ["show", "certificates"],
                     ["clear", "crls"], ["clear", "ocsp"], ["stats"]):
            r = self.daemon.ctl(*args, user=OUTSIDER)
            self.assertEqual(r.returncode, 3, (args, r.stdout, r.stderr))
            self.assertIn("forbidden", r.stderr)
            self.assertEqual(r.stdout, "")
            self.ctl(*args)  # root may
        for op in ({"op": "show", "what": "crls"}, {"op": "clear", "what": "crls"},
                   {"op": "stats"}):
            code = ("import json, socket; s = socket.socket(socket.AF_UNIX); s.connect(%r); "
                    "s.sendall((json.dumps(%r) + '\\n').encode()); print(s.recv(4096).decode())"
                    % (self.daemon.sock, dict(op, id=1)))
            r = subprocess.run(helper.as_user([helper.SYSTEM_PYTHON, "-c", code], OUTSIDER),
                               capture_output=True, text=True, timeout=60, cwd="/")
            self.assertEqual(json.loads(r.stdout)["error"]["code"], "forbidden", r)

    def test_bad_requests(self):
        self.start(["SUB"])
        for req in ({"op": "show"}, {"op": "show", "what": "nothing"},
                    {"op": "show", "what": "crls", "status": True},
                    {"op": "show", "what": "timers", "trustpoint": "SUB"},
                    {"op": "show", "what": "crls", "colour": "red"},
                    {"op": "clear", "what": "timers"}, {"op": "clear", "what": "ocsp",
                                                        "trustpoint": "SUB"},
                    {"op": "stats", "what": "x"}):
            resp = self.daemon.call(dict(req, id=7))
            self.assertEqual((resp["id"], resp["ok"], resp["error"]["code"]),
                             (7, False, "bad-request"), req)

    # ---- expiry notices (R57, R58, O-24, R5) ----

    def test_expiry_notices(self):
        near, month = self.pki.near, self.pki.month
        self.start(["NEAR", "MONTH", "ROOT"],
                   extra_global="crypto pki trustpool policy\n ca-bundle %s\n revocation-check "
                                "none" % self.pki.pool.cert_path)
        alerts = self.log_lines(ALERT)
        self.assertEqual(len(alerts), 1, self.daemon.log_text())
        body = ("Certificate expiring WITHIN A WEEK. Trustpoint Name= NEAR, Certificate Type= CA, "
                "Serial Number= %s, Issuer Name= CN=Adm Near CA,O=certval tests, Subject name= "
                "CN=Adm Near CA,O=certval tests, " % colon_serial(near.serial))
        self.assertRegex(alerts[0], re.escape(ALERT + " : " + body) + LEFT + "$")
        self.assert_left(alerts[0], "NEAR")
        warnings = self.log_lines(WARNING)
        self.assertEqual(len(warnings), 1)
        self.assertIn("Trustpoint Name= MONTH, Certificate Type= CA, Serial Number= %s,"
                      % colon_serial(month.serial), warnings[0])
        self.assertRegex(warnings[0], WARNING + " : .*" + LEFT + "$")
        self.assert_left(warnings[0], "MONTH")
        self.assertNotIn("Adm Pool CA", self.daemon.log_text())  # trustpool excluded (R5)
        self.assertNotIn("Adm Root CA", "\n".join(alerts + warnings))

        self.clock(3600)  # the same slot: nothing new
        self.assertEqual(len(self.log_lines(ALERT)), 1)
        self.clock(86400)  # the next day: the next alert
        alerts = self.log_lines(ALERT)
        self.assertEqual(len(alerts), 2)
        self.assert_left(alerts[1], "NEAR")
        self.assertEqual(len(self.log_lines(WARNING)), 1)
        self.clock(2 * 86400)
        self.assertEqual(len(self.log_lines(ALERT)), 3)
        self.assert_left(self.log_lines(ALERT)[2], "NEAR")
        self.clock(4 * 86400)  # expired: no more notices
        self.assertEqual(len(self.log_lines(ALERT)), 3)
        self.assertEqual(self.ctl_json("stats")["expiry_notices_sent"], 4)
        # a reload keeps what was sent
        self.daemon.signal(1)
        wait_for(lambda: self.log_lines("configuration reloaded"))
        self.assertEqual(len(self.log_lines(ALERT)), 3)
        self.assertEqual(len(self.log_lines(WARNING)), 1)
        # the expiry-notice timer of MONTH is listed among the timers
        self.assertRegex(self.ctl("show", "timers"), r"\| \d+d\d\d:\d\d:\d\d\.000 EXPIRY-NOTICE "
                                                     r"MONTH " + colon_serial(month.serial))


if __name__ == "__main__":
    unittest.main(verbosity=2)
