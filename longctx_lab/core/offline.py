"""A socket guard: with $LONGCTX_LAB_OFFLINE_GUARD=1, any connection off the loopback fails loudly.

Tests set the variable, so the test process and every notebook kernel it starts (kernels inherit
the environment and import this package) prove that the kit never reaches the network.
"""
from __future__ import annotations

import ipaddress
import os
import socket

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


class NetworkBlockedError(OSError):
    """Raised when code tries to reach a non-loopback address while the guard is on."""


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like stay on this machine
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS, i.e. the network


def _guarded_connect(self, address):
    if not _is_local(address):
        raise NetworkBlockedError(f"longctx_lab offline guard: connection to {address!r} blocked")
    return _original_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise NetworkBlockedError(f"longctx_lab offline guard: connection to {address!r} blocked")
    return _original_connect_ex(self, address)


def install_socket_guard() -> None:
    """Make every non-loopback socket connection raise NetworkBlockedError in this process."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex


def install_guard_from_env() -> None:
    """Install the guard when $LONGCTX_LAB_OFFLINE_GUARD is set to 1 (the tests set it)."""
    if os.environ.get("LONGCTX_LAB_OFFLINE_GUARD") == "1":
        install_socket_guard()
