"""What `qms serve` says about where it listens: the truth about the bound address, and the addresses the
office's LAN can use (read from this machine's interfaces, with no network traffic)."""
from __future__ import annotations

import socket
import struct
import sys

ALL_ADDRESSES = ("0.0.0.0", "::", "")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (Linux; elsewhere an empty list). Asks the kernel
    for each interface's address (ioctl SIOCGIFADDR): no DNS, no packet sent."""
    if not sys.platform.startswith("linux"):
        return []
    try:
        import fcntl
        names = [name for _, name in socket.if_nameindex()]
    except (ImportError, OSError):
        return []
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in names:
            try:
                raw = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:  # down, or no IPv4 address
                continue
            address = socket.inet_ntoa(raw[20:24])
            if not address.startswith("127.") and address not in found:
                found.append(address)
    return found


def local_url(host: str, port: int) -> str:
    """The URL this computer can open (loopback when listening on every address)."""
    shown = "127.0.0.1" if host in ALL_ADDRESSES else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"


def listening_message(host: str, port: int, lan: list[str] | None = None) -> str:
    """One paragraph for the console: the bound address as it is, who can reach it, and where."""
    base = local_url(host, port)
    pages = f"pages: {base}/ , API: {base}/api/v1/openapi.json"
    if host in ALL_ADDRESSES:
        lan = lan_addresses() if lan is None else lan
        where = ", ".join(f"http://{a}:{port}/" for a in lan) if lan else "http://<this computer's address>:" \
            f"{port}/"
        return (f"QMS listening on http://{host or '0.0.0.0'}:{port} (every address of this computer): the LAN "
                f"can reach it at {where}; this computer at {base}/  ({pages})")
    if host in LOOPBACK:
        return (f"QMS listening on {base} (this computer only; `--host 0.0.0.0` lets kiosks and displays on the "
                f"LAN reach it)  ({pages})")
    return f"QMS listening on {base}  ({pages})"
