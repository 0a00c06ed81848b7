"""``scan --verify``: ask Copera whether each token found is still live, and nothing else.

It runs after the pipeline: a ScanResult in, the same result out with ``Finding.verification``
set on every finding of a token it asked about; the engine and the sources never know. The
only request is ``GET {base}/board/list-boards`` with the token as a Bearer credential: 200 is
``live``, 401 ``invalid``, anything else ``unknown`` with a short reason. Safety rules, each
because a scanner that leaks the tokens it finds is worse than none:

* The base comes from the command line or ``COPERA_API_URL``, never from a config file: a
  repository's config must not be able to send its reader's tokens to a host of its choosing.
* Only https, unless the host is loopback (a local stand-in in tests). Redirects are not
  followed: a 3xx is ``unknown``, so a token never goes to a host it was not meant for.
* Only the built-in Copera kinds are sent; a custom rule's token may belong to anyone else.
* Each distinct token is asked once, a few at a time; the reason kept for an ``unknown``
  answer is built from our own words and the status code, never from the request or its URL,
  so no error message can carry the token.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from . import __version__, kinds
from .errors import FatalError
from .models import INVALID, LIVE, UNKNOWN, Finding, ScanResult

DEFAULT_API_URL = "https://api.copera.ai/public/v1"
ENV_VAR = "COPERA_API_URL"
PATH = "/board/list-boards"
TIMEOUT = 5.0  # seconds per request; a slow API must not hold a CI job for long
WORKERS = 4  # requests at once: enough for a big leak, gentle on the API
RETRIES = 2  # further tries after a 429
RETRY_CAP = 10.0  # longest Retry-After honoured, in seconds; longer is "unknown"
USER_AGENT = f"copera-secretscan/{__version__} (scan --verify)"
_ORDER = {LIVE: 0, UNKNOWN: 1, None: 1, INVALID: 2}  # live tokens first: revoke those first


class Answer(NamedTuple):
    """What Copera said of one token: a verdict (``models.VERIFICATIONS``) and why, in words
    that never hold the token (``HTTP 200``, ``timed out``)."""

    verdict: str
    detail: str


class Options(NamedTuple):
    """Where to ask and how long to wait: from the command line and the environment only."""

    base: str = DEFAULT_API_URL
    timeout: float = TIMEOUT
    retry_cap: float = RETRY_CAP


def check_base(url: str) -> str:
    """The base URL without a trailing slash, or FatalError: https, or http to loopback only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FatalError(f"API URL {url!r} is not an http(s) URL with a host")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise FatalError(
            f"API URL {url!r}: tokens are only sent over https (http only to localhost)"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise FatalError(f"API URL {url!r}: no query, fragment or credentials allowed")
    return url.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def verify(result: ScanResult, settings: Options) -> ScanResult:
    """``result`` with every Copera token's findings labelled, live ones listed first."""
    answers = ask_all(_askable(result.findings), settings)
    findings = [_labelled(found, answers.get(found.secret)) for found in result.findings]
    findings.sort(key=lambda found: _ORDER[found.verification])  # stable: order kept within
    return result._replace(findings=tuple(findings))


def _askable(findings: Iterable[Finding]) -> Tuple[str, ...]:
    """Distinct tokens of the built-in kinds, in report order."""
    found: Dict[str, None] = {}  # a dict keeps report order
    for finding in findings:
        kind = kinds.by_rule_id(finding.rule_id)
        if kind is not None and finding.secret.startswith(kind.prefix):
            found[finding.secret] = None
    return tuple(found)


def _labelled(finding: Finding, answer: Optional[Answer]) -> Finding:
    if answer is None:
        return finding
    return finding._replace(verification=answer.verdict, verification_detail=answer.detail)


def ask_all(tokens: Tuple[str, ...], settings: Options) -> Dict[str, Answer]:
    """Each token asked once, :data:`WORKERS` at a time."""
    if not tokens:
        return {}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(tokens))) as pool:
        answers = pool.map(lambda token: ask(token, settings), tokens)
        return dict(zip(tokens, answers))


def ask(token: str, settings: Options) -> Answer:
    """One token, retried after a 429 as the API asks (within :data:`RETRY_CAP`)."""
    for attempt in range(RETRIES + 1):
        status, retry_after = _request(token, settings)
        if status != 429:
            return _answer(status)
        wait = _wait(retry_after, attempt)
        if attempt == RETRIES or wait > settings.retry_cap:
            break
        time.sleep(wait)
    return Answer(UNKNOWN, "rate limited (HTTP 429)")


def _answer(status: object) -> Answer:
    if status == 200:
        return Answer(LIVE, "HTTP 200")
    if status == 401:
        return Answer(INVALID, "HTTP 401")
    if isinstance(status, int) and 300 <= status < 400:
        return Answer(UNKNOWN, f"HTTP {status}: redirect not followed")
    return Answer(UNKNOWN, status if isinstance(status, str) else f"HTTP {status}")


def _wait(retry_after: Optional[str], attempt: int) -> float:
    """``Retry-After`` in seconds when the API gives it as a number, else 1 s, then 2 s."""
    try:
        return max(0.0, float(retry_after)) if retry_after else float(attempt + 1)
    except ValueError:  # an HTTP date: rare from an API; wait as if none were given
        return float(attempt + 1)


def _request(token: str, settings: Options) -> Tuple[object, Optional[str]]:
    """(status code or a reason in words, Retry-After). Nothing raised here carries the token:
    every failure becomes a fixed phrase."""
    import socket
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        settings.base + PATH,
        headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
    )
    try:
        with _opener(settings.base).open(request, timeout=settings.timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:  # 4xx, 5xx, and every 3xx (see _opener)
        exc.close()
        return exc.code, exc.headers.get("Retry-After") if exc.headers else None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.timeout):
            return "timed out", None
        return f"connection failed ({type(exc.reason).__name__})", None
    except socket.timeout:  # the answer started, then stalled
        return "timed out", None
    except Exception as exc:  # a reset, a malformed reply: never a traceback,
        # whose text or locals could show the token; the class name says enough
        return f"connection failed ({type(exc).__name__})", None


def _opener(base: str) -> Any:
    """An opener that follows no redirect, so the token goes to the base's host or nowhere:
    urllib then raises each 3xx as an HTTPError, which is "unknown". A loopback base is
    reached directly: a plain-http token must not cross a proxy from the environment."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    handlers: List[Any] = [NoRedirect()]
    if is_loopback(urlsplit(base).hostname or ""):
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def still_failing(result: ScanResult) -> ScanResult:
    """``--only-verified``: the findings that still fail the scan. Only a token Copera refused
    passes; a live one fails, and so does one it could not be asked about (fail closed: a
    token nobody checked cannot be waved through)."""
    kept = tuple(found for found in result.findings if found.verification != INVALID)
    return result._replace(findings=kept)
