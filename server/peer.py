"""The Unix-socket listener of `hall serve --socket PATH`: on the server's own machine the caller
is who the kernel says it is (SO_PEERCRED, Linux), its OS login mapped to the hall user of the same
id, with no token. Requests over TCP never take this path."""

from __future__ import annotations

import asyncio
import pwd
import socket
import struct

from uvicorn.protocols.http.h11_impl import H11Protocol

PEER_HOST = "unix-peer"  # scope["client"] = (PEER_HOST, uid) for a connection over the Unix socket


class PeerProtocol(H11Protocol):
    """uvicorn's h11 protocol, recording the peer's uid of a Unix-socket connection as its client."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family == socket.AF_UNIX:
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", creds)
            self.client = (PEER_HOST, uid)


def login_of(uid: int) -> str | None:
    """The OS login name of a uid, or None when the system has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None
