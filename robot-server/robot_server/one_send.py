"""An answer's headers and body in one send, under gunicorn (mc-serve).

gunicorn writes a response's headers with one ``sendall`` and its body with another: two
system calls, each waking the client, for a heartbeat's answer of a few hundred bytes. In
py-spy the headers' send alone was a fifth of robot-server's CPU per heartbeat. ``install``
makes gunicorn's responses send both together in the one common case: a body written whole
in a single piece of the declared Content-Length (not chunked, not a HEAD or no-body answer);
every other answer goes through gunicorn's own code unchanged.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class _Held:
    """Stands in for the socket while gunicorn writes the headers: keeps their bytes."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


def install() -> None:
    """Replace gunicorn's HTTP/1 response class (in this process) by the one-send one."""
    try:
        from gunicorn.http import wsgi
    except ImportError:  # not under gunicorn
        return
    if getattr(wsgi.Response, "one_send", False):
        return
    base = wsgi.Response
    if not all(hasattr(base, name) for name in ("send_headers", "_emit_body")):
        # another gunicorn than the one this was written for (27): keep its own
        log.warning("gunicorn's Response is not the one expected: answers keep two sends")
        return

    class OneSendResponse(base):
        one_send = True

        def write(self, arg):
            if (not self.headers_sent and not self.chunked and not self._omits_body
                    and isinstance(arg, bytes) and arg and self.response_length == len(arg)
                    and self.sent == 0):
                sock, held = self.sock, _Held()
                self.sock = held
                try:
                    self.send_headers()
                finally:
                    self.sock = sock
                self.sent = len(arg)
                sock.sendall(held.data + arg)
                return
            super().write(arg)

    wsgi.Response = OneSendResponse
