"""servers.py: what tests need around helper servers on loopback: free ports, a helper server
process that prints its port, waiting for a server, stopping a process, plain HTTP GETs.

    httpd = Server([os.path.join(SUPPORT, "httpd_fault.py"), "--root", www])
    body = http_get(httpd.port, "/_count?path=/file/sub.crl")
    httpd.stop()
"""

import socket
import subprocess
import sys
import time


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port of that socket type on which nothing listens yet."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether a TCP server accepts connections on the loopback port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_for(predicate, proc=None, seconds=10.0):
    """Polls predicate until it holds (True), seconds pass or proc exits (False)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        if predicate():
            return True
        time.sleep(0.05)
    return False


def stop_process(proc, timeout=10):
    """SIGTERM, SIGKILL when it has not exited after timeout seconds; always reaps it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Server:
    """A helper server process (a Python script) that prints its port on its first line."""

    def __init__(self, args):
        self.proc = subprocess.Popen([sys.executable] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.proc.stdout.readline().split()[-1])

    def stop(self):
        stop_process(self.proc)
        self.proc.stdout.close()


def recv_all(s):
    """Everything until the peer closes (raises socket.timeout if it does not)."""
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def http_get(port, path):
    """The body of an HTTP/1.0 GET of path on the loopback port."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
        data = recv_all(s)
    return data.split(b"\r\n\r\n", 1)[1]

