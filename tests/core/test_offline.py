"""The test run itself is offline: hub offline flags set, non-loopback sockets refused."""
import os
import socket

import pytest



def test_hub_offline_flag_is_set():
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_non_loopback_connection_is_blocked():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OSError, match="offline guard"):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routable


def test_loopback_connection_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
