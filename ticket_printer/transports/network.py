"""Raw TCP printing ("JetDirect", port 9100): the usual way to reach a LAN thermal printer."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from .base import DLE_EOT_PAPER, PaperStatus, TransportError, decode_paper_status

DEFAULT_PORT = 9100
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True)
class NetworkAddress:
    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse(address: str) -> NetworkAddress:
    """"192.168.1.50:9100", "printer.local", "[fe80::1]:9100"; the port defaults to 9100."""
    text = address.strip()
    if not text:
        raise ValueError("network printer address is empty; expected host or host:port")
    port_text: str | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"bad network printer address {address!r}: missing ']'")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"bad network printer address {address!r}")
            port_text = rest[1:]
        _check_ipv6(host, address)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:
        host = text  # a bare IPv6 address
        _check_ipv6(host, address)
    else:
        host = text
    if ":" not in host and not _HOSTNAME.match(host):
        raise ValueError(f"bad network printer address {address!r}: {host!r} is not a host name or IP")
    port = DEFAULT_PORT
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"bad network printer address {address!r}: port must be 1-65535")
        port = int(port_text)
    return NetworkAddress(host, port)


def _check_ipv6(host: str, address: str) -> None:
    try:
        socket.inet_pton(socket.AF_INET6, host)
    except OSError:
        raise ValueError(f"bad network printer address {address!r}: {host!r} is not IPv6") from None


class NetworkTransport:
    """One TCP connection per job; the printer often accepts only one client at a time."""

    kind = "network"

    def __init__(
        self,
        address: NetworkAddress,
        *,
        connect_timeout: float = 2.0,
        send_timeout: float = 10.0,
        status_timeout: float = 1.0,
    ) -> None:
        self.target = address
        self.address = str(address)
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self.status_timeout = status_timeout

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection(
                (self.target.host, self.target.port), timeout=self.connect_timeout
            )
        except socket.gaierror as exc:
            permanent = exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
            raise TransportError(
                f"printer host {self.target.host!r} not found: {exc.strerror}", permanent
            ) from exc
        except TimeoutError as exc:
            raise TransportError(
                f"printer {self.address} did not answer within {self.connect_timeout:g} s", False
            ) from exc
        except OSError as exc:
            raise TransportError(f"cannot connect to printer {self.address}: {exc.strerror or exc}", False) from exc
        return sock

    def send(self, data: bytes) -> None:
        sock = self._connect()
        try:
            sock.settimeout(self.send_timeout)
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except TimeoutError as exc:
            raise TransportError(
                f"printer {self.address} stopped taking data (paper out or cover open?)", False
            ) from exc
        except OSError as exc:
            raise TransportError(f"sending to printer {self.address} failed: {exc.strerror or exc}", False) from exc
        finally:
            sock.close()

    def paper_status(self) -> PaperStatus:
        sock = self._connect()
        try:
            sock.settimeout(self.status_timeout)
            sock.sendall(DLE_EOT_PAPER)
            answer = sock.recv(1)
        except TimeoutError:
            return "unknown"  # the printer does not answer status requests on this port
        except OSError as exc:
            raise TransportError(f"printer {self.address} status failed: {exc.strerror or exc}", False) from exc
        finally:
            sock.close()
        return decode_paper_status(answer)
