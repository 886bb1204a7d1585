#!/usr/bin/env python3
"""ldap_stall.py: an LDAP server on loopback that stops answering in the middle of a search
result: it answers a bind with success, then to a search sends the first bytes of a
searchResultEntry that announces 4 KiB, and nothing more until the client hangs up. For the
tests of LDAP fetch deadlines (tests/reliability/test_netfaults.py).

Prints its port on its first stdout line and serves until killed. /-less: counts nothing.
"""

import socket
import sys
import threading


def read_ber(conn):
    """One BER element (tag, length, content) of an LDAPMessage, or None at EOF."""
    head = conn.recv(2, socket.MSG_WAITALL)
    if len(head) < 2:
        return None
    length = head[1]
    if length & 0x80:
        n = length & 0x7F
        raw = conn.recv(n, socket.MSG_WAITALL)
        if len(raw) < n:
            return None
        length = int.from_bytes(raw, "big")
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return head[0], body


def message_id_and_op(body):
    """The messageID (INTEGER, short form) and the protocolOp's tag of an LDAPMessage."""
    if len(body) < 3 or body[0] != 0x02:
        return None, None
    n = body[1]
    return int.from_bytes(body[2:2 + n], "big"), body[2 + n] if len(body) > 2 + n else None


def serve(conn):
    with conn:
        while True:
            msg = read_ber(conn)
            if msg is None:
                return
            mid, op = message_id_and_op(msg[1])
            if mid is None or mid > 127:
                return
            if op == 0x60:  # bindRequest -> bindResponse success
                conn.sendall(bytes([0x30, 0x0C, 0x02, 0x01, mid, 0x61, 0x07,
                                    0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]))
            elif op == 0x63:  # searchRequest -> half a searchResultEntry, then silence
                entry = bytes([0x30, 0x82, 0x10, 0x00, 0x02, 0x01, mid, 0x64, 0x82, 0x0F, 0xF9,
                               0x04, 0x10]) + b"cn=stalled,dc=t"
                conn.sendall(entry)
                while conn.recv(4096):
                    pass
                return
            else:  # unbind or anything else
                return


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
