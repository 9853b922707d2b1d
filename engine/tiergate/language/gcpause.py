"""Pausing the cyclic garbage collector while a large policy is read or compiled, where the process allows it.

The collector is one switch for the whole process. A library call that turned it off would do so for every
other thread of a server too, so `paused_gc()` pauses only in a process whose owner said it may
(`allow_pauses()`, called by the command line, which runs one command at a time); elsewhere it does nothing.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager

_allowed = False


def allow_pauses(allowed: bool = True) -> None:
    """Let `paused_gc()` switch the collector off in this process: for a single-threaded command, never a server."""
    global _allowed
    _allowed = allowed


@contextmanager
def paused_gc():
    """Run the block with the cyclic garbage collector off (and back on after, if it was on), where allowed.

    Reading and compiling a policy allocate hundreds of thousands of small objects and free almost
    none. Each allocation burst would start a collection pass over everything alive, so that on a
    10,000-rule policy the passes cost a fifth of the time and grow faster than the policy. Whatever
    cycles the block leaves are collected at the next pass after it.
    """
    if not _allowed:
        yield
        return
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
