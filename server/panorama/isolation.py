"""Taking a worker process off the network, so no query can make it connect anywhere.

The SERVICE check in ``query_text`` stops federated queries before evaluation; this is the
second wall behind it. A process moved into a network namespace of its own has no
interface but a down loopback: Oxigraph's HTTP client finds no route, whatever a query
says. Unsharing needs root or unprivileged user namespaces; where neither is available the
worker runs as before and says so once.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

__all__ = ["isolate_from_network"]

log = logging.getLogger("panorama.isolation")

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


def isolate_from_network() -> bool:
    """Move this process into a new, empty network namespace; True if that worked."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    log.warning(
        "worker %d keeps network access (unshare: %s); only the SERVICE check protects it",
        os.getpid(),
        os.strerror(ctypes.get_errno()),
    )
    return False
