"""Before a web build: can any publisher host be resolved at all? Offline, the answer comes in seconds, and the
build stops with one line instead of waiting through every download's retries."""

import socket
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait

from pipeline.fetch.urls import ALLOWED_HOSTS, host_of, rewrite

RESOLVE_SECONDS = 10.0


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return True


def unresolved_hosts(rewrites: Mapping[str, str], hosts: Iterable[str] = ALLOWED_HOSTS) -> list[str]:
    """The publisher hosts that do not resolve within RESOLVE_SECONDS (a host a test maps onto a loopback server
    counts as resolving)."""
    pending = sorted(h for h in hosts if host_of(rewrite(f"https://{h}/", rewrites)) == h)
    if not pending:
        return []
    pool = ThreadPoolExecutor(max_workers=len(pending))
    futures = {host: pool.submit(_resolves, host) for host in pending}
    wait(futures.values(), timeout=RESOLVE_SECONDS)
    pool.shutdown(wait=False, cancel_futures=True)  # a resolver stuck past the timeout is not waited for
    return [host for host, future in futures.items() if not (future.done() and future.result())]


def offline_message(rewrites: Mapping[str, str], hosts: Iterable[str] = ALLOWED_HOSTS) -> str | None:
    """One line when no publisher host resolves; None when at least one does."""
    hosts = sorted(hosts)
    missing = unresolved_hosts(rewrites, hosts)
    if len(missing) < len(hosts):
        return None
    return (
        f"no publisher host resolves ({', '.join(missing)}): this machine looks offline; "
        "use --source snapshot to build from the bundled real files"
    )
