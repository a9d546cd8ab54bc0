"""A TCP proxy in front of PostgreSQL that a test can make lose connections at chosen moments."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class CuttingProxy:
    """Relays bytes both ways; told to, it cuts a connection just as the server answers a
    request carrying a marker (so the server did the work and the client never hears of it),
    or refuses every connection, as a database that went away does."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cuts = 0
        self._marker: bytes | None = None
        self._refusing = False
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_after(self, marker: bytes) -> None:
        """Cut the connection whose client next sends `marker` once the server answers it."""
        self._marker = marker

    def refuse(self) -> None:
        """Drop every connection and refuse new ones until `allow`."""
        with self._lock:
            self._refusing = True
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def allow(self) -> None:
        self._refusing = False

    def close(self) -> None:
        self.refuse()
        _close(self.listener)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self._refusing:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            for sock in (client, server):  # relay each message at once, as a direct link would
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open += [client, server]
            marked = threading.Event()
            threading.Thread(target=self._upstream, args=(client, server, marked)).start()
            threading.Thread(target=self._downstream, args=(server, client, marked)).start()

    def _upstream(
        self, client: socket.socket, server: socket.socket, marked: threading.Event
    ) -> None:
        for data in _chunks(client):
            if self._marker is not None and self._marker in data:
                self._marker = None
                marked.set()
            try:
                server.sendall(data)
            except OSError:  # cut, or refused meanwhile
                break
        _close(server)

    def _downstream(
        self, server: socket.socket, client: socket.socket, marked: threading.Event
    ) -> None:
        replies = _Replies()
        for data in _chunks(server):
            if marked.is_set() and not replies.watching:
                replies.watch()
            passed = []
            for message in replies.feed(data):
                if marked.is_set() and replies.committed_after(message):
                    self.cuts += 1
                    _close(client)
                    _close(server)
                    return
                passed.append(message)
            with suppress(OSError):
                client.sendall(b"".join(passed))
        _close(client)
        _close(server)


class _Replies:
    """Splits the server's byte stream into protocol messages, and tells which one closes a
    request that completed a command outside any transaction (the work is committed)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.started = False  # past the bare one-byte answers to SSL/GSS encryption requests
        self.completed = False
        self.watching = False

    def watch(self) -> None:
        """Look for the commit from here on (commands completed before do not count)."""
        self.watching, self.completed = True, False

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        messages = []
        while self.buffer:
            if not self.started and self.buffer[:1] == b"N":
                messages.append(self.buffer[:1])
                self.buffer = self.buffer[1:]
                continue
            self.started = True
            if len(self.buffer) < 5:
                break
            length = int.from_bytes(self.buffer[1:5], "big")
            if len(self.buffer) < 1 + length:
                break
            messages.append(self.buffer[: 1 + length])
            self.buffer = self.buffer[1 + length :]
        return messages

    def committed_after(self, message: bytes) -> bool:
        """Whether `message` is the ready-for-query that follows a completed command with no
        transaction open (seen since the marked request)."""
        kind = message[:1]
        if kind == b"C":
            self.completed = True
        return kind == b"Z" and self.completed and message[5:6] == b"I"


def _chunks(sock: socket.socket):  # type: ignore[no-untyped-def]
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        yield data


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()
