"""testpki.py: test PKIs generated with certtool (GnuTLS) for the integration tests.

ECDSA P-256 keys keep generation fast. Every object lands in one directory:

    pki = TestPKI(tmpdir)
    root = pki.ca("Test Root")
    sub = pki.ca("Test Sub", issuer=root, pathlen=0)
    leaf = pki.leaf("peer.example", issuer=sub, dns=["peer.example"])
    old = pki.leaf("old", issuer=sub, not_after=days(-1))
    chain = pki.chain_file("peer", [leaf, sub])
    crl = pki.crl(sub, revoked=[old])

Times are datetime objects (UTC) or offsets from now built with days().
"""

import base64
import datetime
import os
import subprocess
import tempfile

UTC = datetime.timezone.utc


def days(n):
    """A time n days from now (UTC), n may be negative or fractional."""
    return datetime.datetime.now(UTC) + datetime.timedelta(days=n)


def _certtool_date(t):
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _subject(cn, org):
    """The subject as GnuTLS prints it (RFC 4514 order: most specific first)."""
    return "CN=%s,O=%s" % (cn, org) if org else "CN=" + cn


def pem_to_der(pem_text):
    """The DER of every CERTIFICATE block of a PEM text, in order."""
    out, inside, lines = [], False, []
    for line in pem_text.splitlines():
        if line.startswith("-----BEGIN CERTIFICATE-----"):
            inside, lines = True, []
        elif line.startswith("-----END CERTIFICATE-----"):
            out.append(base64.b64decode("".join(lines)))
            inside = False
        elif inside:
            lines.append(line.strip())
    return out


def der_to_pem(der):
    """One CERTIFICATE block holding der (which need not be a certificate)."""
    text = base64.b64encode(der).decode()
    return ("-----BEGIN CERTIFICATE-----\n"
            + "".join(text[i:i + 64] + "\n" for i in range(0, len(text), 64))
            + "-----END CERTIFICATE-----\n")


def truncated_der(cert, drop=10):
    """cert's DER without its last drop bytes: valid base64 and PEM, but no certificate."""
    return cert.der[:-drop]


def openssl_index_line(cert, revoked_at=None):
    """The line of cert in the index file of `openssl ocsp` and `openssl ca`: valid for a
    year, or revoked for keyCompromise at revoked_at (a datetime)."""
    expiry = days(365).strftime("%y%m%d%H%M%SZ")
    serial = "%X" % cert.serial
    if len(serial) % 2:
        serial = "0" + serial
    if revoked_at is None:
        return "V\t%s\t\t%s\tunknown\t/CN=%s\n" % (expiry, serial, cert.name)
    return "R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=%s\n" % (
        expiry, revoked_at.strftime("%y%m%d%H%M%SZ"), serial, cert.name)


class Cert:
    """One generated certificate and its key."""

    def __init__(self, name, cert_path, key_path, serial, subject, is_ca):
        self.name = name
        self.cert_path = cert_path
        self.key_path = key_path
        self.serial = serial
        self.subject = subject
        self.is_ca = is_ca
        with open(cert_path) as f:
            self.pem = f.read()
        self.der = pem_to_der(self.pem)[0]

    @property
    def b64(self):
        """Base64 DER, as the socket protocol carries certificates."""
        return base64.b64encode(self.der).decode()

    def __repr__(self):
        return "Cert(%s)" % self.subject


class TestPKI:
    """Generates keys, certificates and CRLs with certtool in a directory."""

    def __init__(self, directory=None):
        if directory is None:
            directory = tempfile.mkdtemp(prefix="certval-pki-")
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self._serial = 0x1000
        self._crl_number = 0

    def _path(self, name, ext):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return os.path.join(self.dir, safe + ext)

    def _run(self, args):
        res = subprocess.run(["certtool"] + args, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("certtool %s failed: %s" % (" ".join(args), res.stderr))

    # Key kinds: ECDSA P-256 by default; the others for the key-policy tests.
    KEYS = {
        "p256": ["--key-type", "ecdsa", "--curve", "secp256r1"],
        "p192": ["--key-type", "ecdsa", "--curve", "secp192r1"],
        "rsa1024": ["--key-type", "rsa", "--bits", "1024"],
        "rsa2048": ["--key-type", "rsa", "--bits", "2048"],
        "rsa4096": ["--key-type", "rsa", "--bits", "4096"],
        "p384": ["--key-type", "ecdsa", "--curve", "secp384r1"],
    }

    def _key(self, name, kind="p256"):
        path = self._path(name, ".key")
        self._run(["--generate-privkey"] + self.KEYS[kind] + ["--no-text", "--outfile", path])
        return path

    def _template(self, name, lines):
        path = self._path(name, ".tmpl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _issue(self, name, lines, issuer, key_path, serial=None, hash_alg=None):
        if serial is None:
            self._serial += 1
            serial = self._serial
        lines = list(lines) + ["serial = %d" % serial]
        tmpl = self._template(name, lines)
        out = self._path(name, ".pem")
        if issuer is None:
            self._run(["--generate-self-signed", "--load-privkey", key_path,
                       "--template", tmpl, "--no-text", "--outfile", out])
        else:
            self._run(["--generate-certificate", "--load-privkey", key_path,
                       "--load-ca-privkey", issuer.key_path,
                       "--load-ca-certificate", issuer.cert_path,
                       "--template", tmpl, "--no-text", "--outfile", out]
                      + (["--hash", hash_alg] if hash_alg else []))
        return out, serial

    @staticmethod
    def _common(cn, not_before, not_after, crl_url, ocsp_url, org):
        lines = ['cn = "%s"' % cn]
        if org:
            lines.append('organization = "%s"' % org)
        lines.append('activation_date = "%s"' % _certtool_date(not_before or days(-30)))
        lines.append('expiration_date = "%s"' % _certtool_date(not_after or days(365)))
        for url in ([crl_url] if isinstance(crl_url, str) else crl_url or []):
            lines.append('crl_dist_points = "%s"' % url)
        if ocsp_url:
            lines.append('ocsp_uri = "%s"' % ocsp_url)
        return lines

    def ca(self, cn, issuer=None, pathlen=None, not_before=None, not_after=None,
           crl_url=None, ocsp_url=None, org="certval tests", extra=(), key="p256"):
        """A CA certificate: self-signed when issuer is None, else issued by issuer; extra
        holds more certtool template lines (e.g. nc_exclude_dns = "localhost"); key is a
        KEYS kind."""
        key = self._key(cn, key)
        lines = self._common(cn, not_before, not_after or days(3650), crl_url, ocsp_url, org)
        lines += list(extra) + ["ca", "cert_signing_key", "crl_signing_key"]
        if pathlen is not None:
            lines.append("path_len = %d" % pathlen)
        out, serial = self._issue(cn, lines, issuer, key)
        return Cert(cn, out, key, serial, _subject(cn, org), True)

    def leaf(self, cn, issuer, dns=(), ips=(), eku=("server", "client", "ike"),
             not_before=None, not_after=None, crl_url=None, ocsp_url=None,
             org="certval tests", extra=(), serial=None, hash_alg=None, key="p256"):
        """An end-entity certificate with SAN dNSName/iPAddress and EKU (None: no EKU);
        extra holds more certtool template lines (e.g. an add_extension); hash_alg names the
        digest the issuer signs with (e.g. "SHA1" for a weak signature), default certtool's;
        key is a KEYS kind."""
        key = self._key(cn, key)
        lines = self._common(cn, not_before, not_after, crl_url, ocsp_url, org) + list(extra)
        lines += ["signing_key", "encryption_key"]
        for name in dns:
            lines.append('dns_name = "%s"' % name)
        for ip in ips:
            lines.append('ip_address = "%s"' % ip)
        eku_lines = {"server": "tls_www_server", "client": "tls_www_client",
                     "ike": "ipsec_ike_key", "ocsp": "ocsp_signing_key"}
        for purpose in eku or ():
            lines.append(eku_lines[purpose])
        out, serial = self._issue(cn, lines, issuer, key, serial, hash_alg)
        return Cert(cn, out, key, serial, _subject(cn, org), False)

    def chain_file(self, name, certs, der=False):
        """A file holding certs in order (PEM, or DER of the first only when der=True)."""
        if der:
            path = self._path(name, ".der")
            with open(path, "wb") as f:
                f.write(certs[0].der)
            return path
        path = self._path(name, ".chain.pem")
        with open(path, "w") as f:
            f.write("".join(c.pem for c in certs))
        return path

    def crl(self, issuer, revoked=(), this_update=None, next_update=None, number=None,
            name=None):
        """A CRL signed by issuer listing revoked (Certs); returns its PEM path."""
        self._crl_number += 1
        number = number if number is not None else self._crl_number
        name = name or "%s-crl-%d" % (issuer.name, number)
        lines = ["crl_number = %d" % number,
                 'crl_this_update_date = "%s"' % _certtool_date(this_update or days(-1)),
                 'crl_next_update_date = "%s"' % _certtool_date(next_update or days(7)),
                 'crl_revocation_date = "%s"' % _certtool_date(this_update or days(-1))]
        tmpl = self._template(name, lines)
        out = self._path(name, ".crl.pem")
        args = ["--generate-crl", "--load-ca-privkey", issuer.key_path,
                "--load-ca-certificate", issuer.cert_path, "--template", tmpl,
                "--no-text", "--outfile", out]
        if revoked:
            rev = self._path(name, ".revoked.pem")
            with open(rev, "w") as f:
                f.write("".join(c.pem for c in revoked))
            args += ["--load-certificate", rev]
        self._run(args)
        return out


def _der_items(data):
    """The (tag byte, whole TLV bytes) of each DER element in data, in order."""
    out, i = [], 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        hdr = 2
        if n & 0x80:
            count = n & 0x7F
            n = int.from_bytes(data[i + 2:i + 2 + count], "big")
            hdr += count
        out.append((tag, data[i:i + hdr + n]))
        i += hdr + n
    return out


def _der_seq(body):
    n = len(body)
    if n < 0x80:
        return b"\x30" + bytes([n]) + body
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(length)]) + length + body


def crl_without_next_update(crl_pem_path, issuer, out_path):
    """The CRL of crl_pem_path without its nextUpdate (RFC 5280 5.1.2.5 makes it optional),
    signed again with issuer's ECDSA key (SHA-256, `openssl dgst -sign`); writes DER to
    out_path. certtool always writes a nextUpdate, so the field is cut from a CRL it made."""
    with open(crl_pem_path) as f:
        der = base64.b64decode("".join(f.read().split("-----")[2].split()))
    seq = _der_items(der)[0][1]
    body = seq[2 + (seq[1] & 0x7F if seq[1] & 0x80 else 0):]
    tbs, alg, _sig = [item for _, item in _der_items(body)]
    tbs_body = tbs[2 + (tbs[1] & 0x7F if tbs[1] & 0x80 else 0):]
    items = _der_items(tbs_body)
    times = [k for k, (tag, _) in enumerate(items) if tag in (0x17, 0x18)]
    del items[times[1]]  # thisUpdate stays, nextUpdate goes
    new_tbs = _der_seq(b"".join(item for _, item in items))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", issuer.key_path],
                         input=new_tbs, capture_output=True, check=True).stdout
    bits = b"\x00" + sig
    sig_der = b"\x03" + (bytes([len(bits)]) if len(bits) < 0x80 else b"\x81" + bytes([len(bits)])) \
        + bits
    with open(out_path, "wb") as f:
        f.write(_der_seq(new_tbs + alg + sig_der))
    return out_path


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(length)]) + length


def crl_with_entries(crl_pem_path, issuer, n, out_path):
    """The CRL of crl_pem_path with n more revoked entries (16-octet serials 7E 00.. that no
    test certificate carries, each revoked at the CRL's thisUpdate), signed again with issuer's
    ECDSA key (SHA-256, `openssl dgst -sign`); writes DER to out_path and returns its size. A
    large CRL for the ingest tests (issue 13) without `openssl ca` reading a large index."""
    with open(crl_pem_path) as f:
        der = base64.b64decode("".join(f.read().split("-----")[2].split()))
    seq = _der_items(der)[0][1]
    body = seq[2 + (seq[1] & 0x7F if seq[1] & 0x80 else 0):]
    tbs, alg, _sig = [item for _, item in _der_items(body)]
    tbs_body = tbs[2 + (tbs[1] & 0x7F if tbs[1] & 0x80 else 0):]
    items = _der_items(tbs_body)
    times = [k for k, (tag, _) in enumerate(items) if tag in (0x17, 0x18)]
    this_update = items[times[0]][1]
    extra = b"".join(_der_seq(b"\x02\x10\x7e" + i.to_bytes(15, "big") + this_update)
                     for i in range(n))
    after = times[-1] + 1
    if after < len(items) and items[after][0] == 0x30:  # revokedCertificates present
        old = items[after][1]
        old_body = old[2 + (old[1] & 0x7F if old[1] & 0x80 else 0):]
        items[after] = (0x30, _der_seq(old_body + extra))
    else:
        items.insert(after, (0x30, _der_seq(extra)))
    new_tbs = _der_seq(b"".join(item for _, item in items))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", issuer.key_path],
                         input=new_tbs, capture_output=True, check=True).stdout
    bits = b"\x00" + sig
    out = _der_seq(new_tbs + alg + b"\x03" + _der_len(len(bits)) + bits)
    with open(out_path, "wb") as f:
        f.write(out)
    return len(out)


def standard(directory=None):
    """The usual small PKI: root -> sub -> leaves (good, expired, not yet valid, foreign)."""
    pki = TestPKI(directory)
    pki.root = pki.ca("Test Root CA", pathlen=1)
    pki.sub = pki.ca("Test Sub CA", issuer=pki.root, pathlen=0)
    pki.good = pki.leaf("peer.example", pki.sub, dns=["peer.example"])
    pki.expired = pki.leaf("expired.example", pki.sub, dns=["expired.example"],
                           not_before=days(-60), not_after=days(-1))
    pki.future = pki.leaf("future.example", pki.sub, dns=["future.example"],
                          not_before=days(10), not_after=days(400))
    pki.other_root = pki.ca("Other Root CA")
    pki.foreign = pki.leaf("foreign.example", pki.other_root, dns=["foreign.example"])
    return pki
