"""Requests Schemathesis does not make, written byte for byte: broken bodies, headers, paths and uploads.

Each API gets the same families of cases, aimed at its own operations and seeded records:
truncated and malformed JSON, invalid UTF-8, deeply nested JSON, huge strings and arrays, bodies over the size
limit (announced and chunked), wrong and missing content types, duplicate and oversized headers, path segments
with ``..``, ``%00``, invalid percent-escapes and unicode, odd query strings, and (Torii) multipart with no
file, two files, or a broken envelope.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MB = 1024 * 1024


@dataclass(frozen=True)
class RawCase:
    name: str
    method: str
    request: bytes
    http_layer: bool = False
    """Refused by the HTTP server itself (uvicorn's parser) before any app sees it: a plain-text 400."""


@dataclass(frozen=True)
class _Anchor:
    """A valid request of one operation, that the cases below break one way each."""

    method: str
    path: str
    content_type: str
    body: bytes


_MPDX_PARENT = "/api/v2/account_lists/08d9120d-db44-48e0-b7b0-6ba37b18b130/invites"
_MPDX_INVITE = _MPDX_PARENT + "/6be89230-020f-4381-8a11-1217598d89a0"

ANCHORS: dict[str, list[_Anchor]] = {
    "rootfi": [
        _Anchor("PUT", "/core/invite_links/1", "application/json", b'{"company_name": "Raw"}'),
        _Anchor("POST", "/core/invite_links", "application/json",
                b'{"company_name": "Raw", "integrations": ["XERO"]}'),
    ],
    "mpdx": [
        _Anchor("POST", _MPDX_PARENT, "application/vnd.api+json",
                b'{"data": {"type": "account_list_invites", "attributes": {"recipient_email": "raw@example.com"}}}'),
        _Anchor("PUT", _MPDX_INVITE + "/accept", "application/vnd.api+json",
                b'{"data": {"type": "account_list_invites", "attributes": {"code": "wrong"}}}'),
    ],
    "torii": [
        _Anchor("PUT", "/services/sync/custom", "application/json", b'{"idFile": 1000, "idAppAccount": 1}'),
    ],
}

READS: dict[str, str] = {
    "rootfi": "/core/invite_links/1",
    "mpdx": _MPDX_INVITE,
    "torii": "/files/1000",
}
"""A seeded record of each API, read through odd paths and queries."""

BOUNDARY = "rawboundary7MA4YWxkTrZu0gW"


def _request(method: str, target: str, headers: list[tuple[str, str]] | list[tuple[str, bytes]],
             body: bytes = b"", *, length: bool = True) -> bytes:
    lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    for name, value in headers:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    if length:
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _chunked(body: bytes, chunk: int = 64 * 1024) -> bytes:
    parts = [f"{len(body[i:i + chunk]):x}\r\n".encode() + body[i:i + chunk] + b"\r\n"
             for i in range(0, len(body), chunk)]
    return b"".join(parts) + b"0\r\n\r\n"


def _nested(depth: int) -> bytes:
    return b'{"data": ' + b"[" * depth + b"]" * depth + b"}"


def _body_cases(base: str, anchor: _Anchor, auth: list[tuple[str, str]]) -> list[RawCase]:
    target = base + anchor.path
    typed = [*auth, ("Content-Type", anchor.content_type)]
    label = f"{anchor.method} {anchor.path}"
    bodies = {
        "truncated JSON": anchor.body[: len(anchor.body) // 2],
        "malformed JSON (single quotes)": anchor.body.replace(b'"', b"'"),
        "JSON with a trailing comma": anchor.body[:-1] + b",}",
        "NaN and Infinity": b'{"data": NaN, "value": Infinity}',
        "a bare JSON string": b'"just a string"',
        "JSON null": b"null",
        "an empty body": b"",
        "invalid UTF-8": anchor.body.replace(b'"', b'"\xff\xfe', 2),
        "UTF-16 with a BOM": b"\xff\xfe" + anchor.body.decode().encode("utf-16-le"),
        "deeply nested arrays (50,000 levels)": _nested(50_000),
        "deeply nested objects (5,000 levels)": b'{"a": ' * 5_000 + b"1" + b"}" * 5_000,
        "a 900 KB string": b'{"data": {"type": "x", "attributes": {"note": "' + b"a" * 900_000 + b'"}}}',
        "a 200,000-item array": b'{"data": [' + b",".join([b"0"] * 200_000) + b"]}",
        "a huge number": b'{"data": 1' + b"0" * 100_000 + b"}",
        "NUL bytes in strings": anchor.body.replace(b'"', b'"\\u0000', 2),
    }
    cases = [RawCase(f"{label}: {name}", anchor.method, _request(anchor.method, target, typed, body))
             for name, body in bodies.items()]
    over = b'{"data": "' + b"x" * (MB + 10) + b'"}'
    cases += [
        RawCase(f"{label}: body over 1 MB announced", anchor.method, _request(anchor.method, target, typed, over)),
        RawCase(f"{label}: body over 1 MB chunked", anchor.method, _request(
            anchor.method, target, [*typed, ("Transfer-Encoding", "chunked")], _chunked(over), length=False)),
        RawCase(f"{label}: Content-Length larger than the body limit, no body sent", anchor.method, _request(
            anchor.method, target, [*typed, ("Content-Length", str(50 * MB))], b"", length=False)),
        RawCase(f"{label}: valid body chunked", anchor.method, _request(
            anchor.method, target, [*typed, ("Transfer-Encoding", "chunked")], _chunked(anchor.body, 7),
            length=False)),
        RawCase(f"{label}: text/plain", anchor.method,
                _request(anchor.method, target, [*auth, ("Content-Type", "text/plain")], anchor.body)),
        RawCase(f"{label}: application/xml", anchor.method,
                _request(anchor.method, target, [*auth, ("Content-Type", "application/xml")], b"<a>1</a>")),
        RawCase(f"{label}: multipart instead of JSON", anchor.method, _request(
            anchor.method, target, [*auth, ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")],
            _multipart([("file", "a.json", anchor.body)]))),
        RawCase(f"{label}: no content type", anchor.method, _request(anchor.method, target, auth, anchor.body)),
        RawCase(f"{label}: a malformed content type", anchor.method,
                _request(anchor.method, target, [*auth, ("Content-Type", ";;;/json; =")], anchor.body)),
        RawCase(f"{label}: two content types", anchor.method, _request(
            anchor.method, target, [*typed, ("Content-Type", "text/plain")], anchor.body)),
        RawCase(f"{label}: two credentials", anchor.method, _request(
            anchor.method, target, [*auth, *auth, ("Content-Type", anchor.content_type)], anchor.body)),
        RawCase(f"{label}: no credentials", anchor.method, _request(
            anchor.method, target, [("Content-Type", anchor.content_type)], anchor.body)),
        RawCase(f"{label}: a blank credential", anchor.method, _request(
            anchor.method, target, [(name, "") for name, _ in auth] + [("Content-Type", anchor.content_type)],
            anchor.body)),
    ]
    return cases


def _multipart(parts: list[tuple[str, str | None, bytes]], *, close: bool = True) -> bytes:
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
                + ("Content-Type: application/json\r\n" if filename else "") + "\r\n").encode() + content + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def _upload_cases(base: str, auth: list[tuple[str, str]]) -> list[RawCase]:
    target = base + "/files/upload"
    form = [*auth, ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")]
    data = b'{"users": []}'
    kind = ("type", None, b"customIntegrationData")
    uploads = {
        "no file": _multipart([kind]),
        "two files": _multipart([("file", "a.json", data), ("file", "b.json", data), kind]),
        "no type": _multipart([("file", "a.json", data)]),
        "an unknown type": _multipart([("file", "a.json", data), ("type", None, b"../../etc/passwd")]),
        "a file name with ../": _multipart([("file", "../../../../tmp/evil.json", data), kind]),
        "a file name with NUL": _multipart([("file", "a\x00.json", data), kind]),
        "an unterminated envelope": _multipart([("file", "a.json", data), kind], close=False),
        "garbage instead of parts": b"\x00\xff" * 1000,
        "an empty body": b"",
        "a file over 3 MB": _multipart([("file", "big.json", b"[" + b"0," * (3 * MB // 2) + b"0]"), kind]),
    }
    cases = [RawCase(f"POST /files/upload: {name}", "POST", _request("POST", target, form, body))
             for name, body in uploads.items()]
    cases.append(RawCase("POST /files/upload: multipart without a boundary", "POST", _request(
        "POST", target, [*auth, ("Content-Type", "multipart/form-data")], _multipart([("file", "a.json", data), kind]))))
    cases.append(RawCase("POST /files/upload: body over the upload limit, chunked", "POST", _request(
        "POST", target, [*form, ("Transfer-Encoding", "chunked")],
        _chunked(_multipart([("file", "big.json", b"0" * (4 * MB)), kind])), length=False)))
    return cases


def _path_cases(base: str, read: str, auth: list[tuple[str, str]]) -> list[RawCase]:
    parent, _, last = read.rpartition("/")
    targets = {
        "a ../ segment": f"{base}{parent}/../{last}",
        "an encoded ../ chain": f"{base}{parent}/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "a ../ chain to the admin API": f"{base}/../../__admin/state",
        "a NUL byte": f"{base}{parent}/{last}%00",
        "an invalid percent-escape": f"{base}{parent}/%zz{last}",
        "invalid UTF-8 escaped": f"{base}{parent}/%ff%fe",
        "unicode": f"{base}{parent}/%C3%BC%F0%9F%92%A5",
        "a 4 KB segment": f"{base}{parent}/{'a' * 4096}",
        "a double slash": f"{base}{parent}//{last}",
        "an odd query string": f"{base}{read}?a=%ff&&=&b=%00&filter[x]=1&filter[x]=2&page=-1&per_page=999999",
        "a 6 KB query string": f"{base}{read}?q={'x' * 6000}",
    }
    cases = [RawCase(f"GET {name}", "GET", _request("GET", target, auth)) for name, target in targets.items()]
    raw_target = (f"{base}{parent}/".encode() + b"\xc3\x28\xff")
    cases.append(RawCase("GET raw invalid UTF-8 in the path", "GET",
                         _request("GET", "PLACEHOLDER", auth).replace(b"PLACEHOLDER", raw_target), http_layer=True))
    cases += [
        RawCase("GET an 8 KB header value", "GET", _request("GET", base + read, [*auth, ("X-Big", "b" * 8000)])),
        RawCase("GET a 100 KB header value", "GET", _request("GET", base + read, [*auth, ("X-Big", "b" * 100_000)])),
        RawCase("GET 200 headers", "GET",
                _request("GET", base + read, [*auth, *((f"X-H{i}", "v") for i in range(200))])),
        RawCase("GET two session headers", "GET", _request(
            "GET", base + read, [*auth, ("X-Mock-Session", "one"), ("X-Mock-Session", "two")])),
        RawCase("GET a session name with ../", "GET", _request(
            "GET", base + read, [*auth, ("X-Mock-Session", "../../etc")])),
        RawCase("GET a session name with a slash", "GET",
                _request("GET", base + read, [*auth, ("X-Mock-Session", "a/b")])),
        RawCase("GET a latin-1 header value", "GET", _request(
            "GET", base + read, [*auth, ("X-Latin", "caf\xe9".encode("latin-1"))])),
        RawCase("GET Prefer with nonsense", "GET", _request(
            "GET", base + read, [*auth, ("Prefer", "code=abc, example=../../x, delay=-1")])),
        RawCase("GET Prefer code 500", "GET", _request("GET", base + read, [*auth, ("Prefer", "code=500")])),
        RawCase("GET with a body", "GET", _request("GET", base + read, auth, b'{"a": 1}')),
        RawCase("TRACE an API path", "TRACE", _request("TRACE", base + read, auth)),
    ]
    return cases


def raw_cases(api: str, base_path: str, headers: dict[str, str]) -> list[RawCase]:
    """Every raw case for ``api`` served under ``base_path``, sent with ``headers`` (credentials, session)."""
    session = [(name, value) for name, value in headers.items() if name.lower() == "x-mock-session"]
    auth = [(name, value) for name, value in headers.items() if name.lower() != "x-mock-session"]
    # The session header first: the cases that repeat or drop the credentials keep the caller's session.
    cases: list[RawCase] = []
    for anchor in ANCHORS[api]:
        cases += _body_cases(base_path, anchor, auth)
    if api == "torii":
        cases += _upload_cases(base_path, auth)
    cases += _path_cases(base_path, READS[api], auth)
    return [RawCase(case.name, case.method, _with_headers(case.request, session), case.http_layer)
            for case in cases]


def _with_headers(request: bytes, headers: list[tuple[str, str]]) -> bytes:
    head, _, rest = request.partition(b"\r\n")
    if b"X-Mock-Session" in request.split(b"\r\n\r\n", 1)[0]:
        return request  # the case is about the session header itself
    extra = b"".join(f"{name}: {value}\r\n".encode() for name, value in headers)
    return head + b"\r\n" + extra + rest


def send_raw(origin: str, request: bytes, *, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is and read the whole answer (``Connection: close``): status, headers, body."""
    url = urlsplit(origin)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (e.g. 413) and closed before reading the whole body: read its answer
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        raise ConnectionError(f"no HTTP answer (got {raw[:100]!r})")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


__all__ = ["RawCase", "raw_cases", "send_raw"]
