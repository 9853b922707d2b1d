"""Signing in to the web registry: a session cookie that holds the person's token, and the CSRF token of its forms.

The session is the token itself, in a cookie the page's scripts cannot read (`HttpOnly`), sent back only to this
site (`SameSite=Lax`) and only over TLS when the page came over TLS (`Secure`). Every page authenticates it as the API
authenticates a bearer token, so a revoked or expired token ends its sessions at once, on every server, with nothing
kept on the server. A form carries a CSRF token derived from the session's token by a keyed hash: a page of another
site can make the browser send the cookie, but cannot read the cookie, so it cannot know the form's token. The
sign-in form, before there is a session, carries the value of a cookie of its own (double submit).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

#: the session cookie, and the sign-in form's own
SESSION, SIGNIN = "tiergate_session", "tiergate_signin"
#: the form field that carries the CSRF token
FIELD = "csrf"


def csrf_token(session: str) -> str:
    """The CSRF token of the forms of the session whose token is `session`."""
    return hmac.new(session.encode("utf-8"), b"tiergate web form", hashlib.sha256).hexdigest()


def valid_csrf(session: str | None, given: str | None) -> bool:
    """Whether a form's CSRF token is the session's (compared in constant time)."""
    if not session or not given:
        return False
    return hmac.compare_digest(csrf_token(session).encode(), given.encode("utf-8", "replace"))


def signin_nonce() -> str:
    return secrets.token_urlsafe(24)


def valid_signin(cookie: str | None, given: str | None) -> bool:
    if not cookie or not given:
        return False
    return hmac.compare_digest(cookie.encode("utf-8", "replace"), given.encode("utf-8", "replace"))


def set_cookie(response, name: str, value: str, secure: bool, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax")


def clear_cookie(response, name: str, secure: bool) -> None:
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (`/...`, never `//host` or a URL), else the inventory."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
