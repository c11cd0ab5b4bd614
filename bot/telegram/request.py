"""The Bot API's HTTP client for python-telegram-bot, on aiohttp instead of PTB's default httpx.

The same requests (form-encoded parameters, multipart for files, PTB's User-Agent, no redirects
followed), the same trust (the CA bundle, SSL_CERT_FILE/SSL_CERT_DIR, as httpx), proxies from the
environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY), the same pool sizes and timeouts, and PTB's
errors: a timeout is TimedOut, any other failure NetworkError. What changes is the cost: under load
httpx (with httpcore, anyio and h11, all pure Python) took about 3.5 ms of CPU per sendMessage and
aiohttp (C-accelerated parsing) about 0.6 ms, a third of the bot's CPU per answer before.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlencode
from urllib.request import getproxies, proxy_bypass

import aiohttp
import httpx
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

# PTB's defaults (ApplicationBuilder, HTTPXRequest): 256 connections for sends, one for getUpdates.
POOL_SIZE = 256
GET_UPDATES_POOL_SIZE = 1
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# httpx's (HTML5) escapes in a multipart file name; aiohttp adds the backslash's
FILENAME_ESCAPES = {ord('"'): "%22", **{c: f"%{c:02X}" for c in range(0x20) if c != 0x1B}}


def _value(given: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(given, DefaultValue) else given


def env_proxy(url: str) -> URL | None:
    """The proxy for this URL from the environment, as httpx read it: <SCHEME>_PROXY, else ALL_PROXY,
    unless NO_PROXY names the host (aiohttp sends credentials in its URL as Proxy-Authorization)."""
    target = URL(url)
    if target.host is None or proxy_bypass(target.host):
        return None
    proxies = getproxies()
    found = proxies.get(target.scheme) or proxies.get("all")
    if not found:
        return None
    return URL(found if "://" in found else "http://" + found)


def _sum(*parts: float | None) -> float | None:
    """A bound made of several phases; none when any phase is unbounded."""
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


class AiohttpRequest(BaseRequest):
    """One aiohttp session per request object, opened by initialize() and closed by shutdown().

    Timeouts as HTTPXRequest: `connect` per connection attempt, `pool` to wait for a free connection,
    `read` between bytes of the response (started once the request is sent). aiohttp has no timeout per
    write, so `write` (`media_write` for files) bounds an upload as a whole: a request with files must
    finish within pool + connect + write + read; other requests' bodies are small and never wait on
    the socket.
    """

    __slots__ = ("_connect", "_media_write", "_pool", "_pool_size", "_proxies", "_read", "_session", "_ssl",
                 "_write")

    def __init__(self, connection_pool_size: int = POOL_SIZE, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._read, self._write, self._connect, self._pool = read_timeout, write_timeout, connect_timeout, pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._ssl: ssl.SSLContext | None = None
        self._proxies: dict[str, URL | None] = {}  # by scheme://host:port

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()  # certifi, or SSL_CERT_FILE / SSL_CERT_DIR: httpx's trust
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0, ssl=self._ssl)
            # trust_env=False: aiohttp would look the proxy (and netrc) up in a thread for every request;
            # the proxy is looked up once per server instead (env_proxy), as httpx did once per client
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                                  headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read, connect = _value(read_timeout, self._read), _value(connect_timeout, self._connect)
        pool = _value(pool_timeout, self._pool)
        timeout = aiohttp.ClientTimeout(total=None, connect=_sum(pool, connect), sock_connect=connect, sock_read=read)
        if files:
            write = _value(write_timeout, self._media_write)
            timeout = aiohttp.ClientTimeout(total=_sum(pool, connect, write, read), connect=timeout.connect,
                                            sock_connect=connect, sock_read=read)
        data = self._body(request_data, files)
        server = url.split("/", 3)[2] if "://" in url else url
        if server not in self._proxies:
            self._proxies[server] = env_proxy(url)
        headers = FORM if isinstance(data, bytes) else None
        try:
            async with self._session.request(method, url, data=data, headers=headers, timeout=timeout,
                                             proxy=self._proxies[server], allow_redirects=False) as response:
                return response.status, await response.read()
        except TimeoutError as e:  # aiohttp's timeouts are TimeoutErrors (asyncio.TimeoutError is the same)
            raise TimedOut from e
        except aiohttp.ClientError as e:
            raise NetworkError(f"aiohttp.{e.__class__.__name__}: {e}") from e

    @staticmethod
    def _body(request_data: RequestData | None, files: dict[str, Any] | None) -> Any:
        """Form-encoded parameters, or multipart with the files (as httpx's `data=` and `files=`)."""
        if request_data is None:
            return None
        parameters = request_data.json_parameters
        if not files:
            return urlencode(parameters).encode() if parameters else None
        form = aiohttp.FormData(quote_fields=False)  # a file name as UTF-8, not percent-encoded
        for name, value in parameters.items():
            form.add_field(name, value)
        for name, (filename, content, mimetype) in files.items():
            form.add_field(name, content, filename=filename.translate(FILENAME_ESCAPES), content_type=mimetype)
        return form


def get_updates_request() -> AiohttpRequest:
    return AiohttpRequest(connection_pool_size=GET_UPDATES_POOL_SIZE)
