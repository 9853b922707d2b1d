"""What is made from one stored event and kept while it is the same event: a server reads the roster and the policy
versions before every request, and parses them once. The key ends with the event's seq and hash, and the hash is of
the whole chain up to it, so a key names one content; a ledger rewritten in place (not appended to) is for
`audit verify` to find, not for this."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class Kept:
    """A small least-recently-used store of values by key, safe across threads."""

    def __init__(self, size: int = 8):
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept under `key`, else `make()` (outside the lock: it may read the store), kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value
