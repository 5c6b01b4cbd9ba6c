"""A minimal HTTP/1.1 keep-alive client on asyncio (a Protocol, no streams): the fleet bench's
robots send thousands of small requests a second from one process that shares the machine's
cores with the server it measures, so each request must cost the client as little as possible
(aiohttp cost about 0.4 ms of CPU per heartbeat here). It speaks only what robot-server
answers: a status line, headers and a Content-Length body; one request at a time.
"""

from __future__ import annotations

import asyncio


class Closed(Exception):
    """The connection ended before a whole answer came."""


class Http(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: ``call(request)`` -> (status, body); one request
    at a time. An answer is its status line, headers and a Content-Length body (robot-server's
    only kind)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: asyncio.Future | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, error) -> None:
        self.transport = None
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(Closed(str(error or "closed by the server")))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiting is None or self.waiting.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.waiting.set_exception(Closed("an answer without Content-Length"))
            return
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17:line_end if line_end > 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4:end + 4 + length])
        del self.buffer[:end + 4 + length]
        if b"\r\nconnection: close" in head:
            self.transport.close()
        self.waiting.set_result((status, body))


class Connection:
    """A robot's connection to robot-server, opened when first needed and again after the
    server closed it (an idle keep-alive connection it dropped: the request is sent again
    once, on a new connection, when nothing of an answer had come)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.http: Http | None = None

    async def call(self, request: bytes, timeout: float) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            for attempt in (1, 2):
                fresh = self.http is None or self.http.transport is None
                if fresh:
                    _, self.http = await loop.create_connection(Http, self.host, self.port)
                http = self.http
                http.waiting = loop.create_future()
                http.buffer.clear()
                http.transport.write(request)
                try:
                    return await http.waiting
                except Closed:
                    self.close()
                    if fresh or attempt == 2 or http.buffer:
                        raise
            raise AssertionError("unreachable")

    def close(self) -> None:
        if self.http is not None and self.http.transport is not None:
            self.http.transport.close()
        self.http = None
