"""gunicorn's responses under robot-server (one_send.py): a body written whole goes out with
its headers in one send; chunked, several-piece and no-body answers as gunicorn sends them."""

from __future__ import annotations

import socket

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from robot_server import one_send


class Socket:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(data)


@pytest.fixture(autouse=True)
def installed(monkeypatch):
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)  # put back afterwards
    one_send.install()
    one_send.install()  # twice changes nothing


def _answer(method: str, headers: list[tuple[str, str]], pieces: list[bytes]) -> list[bytes]:
    client, server = socket.socketpair()
    with client, server:
        client.sendall(f"{method} / HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        client.shutdown(socket.SHUT_WR)
        config = Config()
        request = next(iter(RequestParser(config, server, ("127.0.0.1", 1))))
        sock = Socket()
        response, _environ = wsgi.create(request, sock, ("127.0.0.1", 1), ("127.0.0.1", 2),
                                         config)
        response.start_response("200 OK", headers)
        for piece in pieces:
            response.write(piece)
        response.close()
    return sock.sent


def test_a_whole_body_goes_with_its_headers_in_one_send():
    sent = _answer("POST", [("Content-Type", "application/json"), ("Content-Length", "8")],
                   [b'{"a":1}\n'])
    assert len(sent) == 1
    head, _, body = sent[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nContent-Length: 8" in head
    assert body == b'{"a":1}\n'


def test_other_answers_are_sent_as_gunicorn_sends_them():
    pieces = _answer("GET", [("Content-Length", "4")], [b"ab", b"cd"])
    assert pieces[1:] == [b"ab", b"cd"] and pieces[0].endswith(b"\r\n\r\n")
    chunked = _answer("GET", [], [b"ab", b"cd"])
    assert b"Transfer-Encoding: chunked" in chunked[0]
    assert chunked[1:] == [b"2\r\nab\r\n", b"2\r\ncd\r\n", b"0\r\n\r\n"]
    head = _answer("HEAD", [("Content-Length", "4")], [b"abcd"])
    assert len(head) == 1 and head[0].endswith(b"Content-Length: 4\r\n\r\n")
