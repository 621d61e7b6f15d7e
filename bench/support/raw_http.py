"""A small HTTP/1.1 client on asyncio streams, for load generators that share the machine with
the servers they measure.

httpx costs the drill's process milliseconds of CPU a request (its models, its connection
pool's bookkeeping, anyio): at a spike's rate on a 2-core machine, the generator took a core
from the servers it measured. This client writes a request as bytes on a kept-alive
connection and reads the status line, the headers and a ``Content-Length`` (or chunked) body:
what a load balancer does, a few tens of microseconds a request.

A connection idle longer than ``IDLE_S`` is not reused (uvicorn closes them after 5 s), and a
failed connection drops every idle one to the same server, as a load balancer's passive health
check would: they went with the process. A request is never sent twice: a POST may have been
committed by a process that died before it answered.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

IDLE_S = 4.0


class ConnectFailed(Exception):
    """Nothing listens (the process is down or restarting): safe to send elsewhere."""


class ConnectionLost(Exception):
    """The connection closed or broke after the request was written: no answer."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0


class Server:
    """Kept-alive connections to one ``host:port``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[_Connection] = []

    def _drop_idle(self) -> None:
        for connection in self.idle:
            connection.writer.close()
        self.idle.clear()

    async def _connection(self) -> _Connection:
        """An idle connection, or a new one."""
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()
            if now - connection.idle_since < IDLE_S and not connection.reader.at_eof():
                return connection
            connection.writer.close()
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as error:
            self._drop_idle()
            raise ConnectFailed(str(error)) from error
        return _Connection(reader, writer)

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> Answer:
        body = b"" if json_body is None else json.dumps(json_body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if json_body is not None:
            head.append("Content-Type: application/json")
        if body or method not in ("GET", "HEAD"):
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        connection = await self._connection()
        try:
            answer = await self._exchange(connection, raw)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            # Not sent again: a POST may have been committed before the process went.
            connection.writer.close()
            self._drop_idle()
            raise ConnectionLost(str(error) or type(error).__name__) from error
        except BaseException:
            connection.writer.close()  # cancelled (a timeout): the answer may still come
            raise
        if answer.headers.get("connection", "").lower() == "close":
            connection.writer.close()
        else:
            connection.idle_since = time.monotonic()
            self.idle.append(connection)
        return answer

    @staticmethod
    async def _exchange(connection: _Connection, raw: bytes) -> Answer:
        connection.writer.write(raw)
        await connection.writer.drain()
        reader = connection.reader
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")  # the empty trailer
            body = b"".join(parts)
        else:
            body = b""
        return Answer(status, headers, body)

    def forget(self) -> None:
        """Close the idle connections (the process behind them was killed: its kernel closed
        them, which a balancer learns at once)."""
        self._drop_idle()
