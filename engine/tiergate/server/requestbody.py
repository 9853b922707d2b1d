"""Reading a request's body within the server's limit (`--max-body`): refused from its Content-Length, or as soon as
what arrives passes the limit, never read whole first. For the API's JSON and the pages' forms alike."""
from __future__ import annotations

from urllib.parse import parse_qsl


async def read_within(request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` bytes (the caller answers 413, E651)."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def form_within(request, limit: int) -> dict | None:
    """An HTML form's fields (the last of a repeated name), or None when the body is larger than `limit` bytes."""
    raw = await read_within(request, limit)
    if raw is None:
        return None
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
