"""crlkit.py: CRLs with exact times, many entries and Microsoft's Next CRL Publish, made by
`openssl ca -gencrl` with a test CA of testpki.py (issue 16 tests and the fleet benchmark)."""

import datetime
import os
import subprocess

UTC = datetime.timezone.utc


def _utc(t):
    return t.astimezone(UTC).strftime("%y%m%d%H%M%SZ")


def index_line(serial, revoked_at=None, reason="keyCompromise"):
    """The `openssl ca` index line of serial (an int): revoked at revoked_at (a datetime), or
    valid when None."""
    hexs = "%X" % serial
    if len(hexs) % 2:
        hexs = "0" + hexs
    expiry = _utc(datetime.datetime.now(UTC) + datetime.timedelta(days=365))
    if revoked_at is None:
        return "V\t%s\t\t%s\tunknown\t/CN=s%s\n" % (expiry, hexs, hexs)
    return "R\t%s\t%s,%s\t%s\tunknown\t/CN=s%s\n" % (expiry, _utc(revoked_at), reason, hexs,
                                                   hexs)


def make_crl(directory, name, ca, lines, number, seconds, next_publish=None):
    """A PEM CRL of ca (a testpki Cert with its key) listing the revoked index lines, with
    thisUpdate now, nextUpdate now + seconds, CRL number number and, when next_publish (a
    datetime) is given, the Next CRL Publish extension (1.3.6.1.4.1.311.21.4). Returns the
    path of the PEM file."""
    d = os.path.join(directory, "ca-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "index.txt"), "w") as f:
        f.write("".join(lines))
    with open(os.path.join(d, "crlnumber"), "w") as f:
        f.write("%02X\n" % number)
    ext = ""
    if next_publish is not None:
        ext = "1.3.6.1.4.1.311.21.4 = DER:170D%s\n" % _utc(next_publish).encode().hex()
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = CA\n[CA]\ndatabase = %s/index.txt\ncertificate = %s\n"
                "private_key = %s\ncrlnumber = %s/crlnumber\ndefault_md = sha256\n"
                "[ext]\n%s" % (d, ca.cert_path, ca.key_path, d, ext))
    out = os.path.join(directory, name + ".crl.pem")
    args = ["openssl", "ca", "-config", os.path.join(d, "ca.cnf"), "-gencrl", "-crlsec",
            str(int(seconds)), "-batch", "-out", out]
    if ext:
        args += ["-crlexts", "ext"]
    subprocess.run(args, check=True, capture_output=True)
    return out


def publish(src, directory, name):
    """Puts the CRL at src where the origin serves NAME (atomically)."""
    tmp = os.path.join(directory, "." + name + ".tmp")
    with open(src, "rb") as f, open(tmp, "wb") as g:
        g.write(f.read())
    os.replace(tmp, os.path.join(directory, name))
