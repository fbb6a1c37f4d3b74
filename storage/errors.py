"""What goes wrong with the database, in words a user can act on."""

import asyncio
import logging
import sqlite3
from typing import Any

logger = logging.getLogger("storage.database")


class StorageError(Exception):
    """The database could not take a change; nothing of it was stored."""


def describe(error: BaseException) -> str:
    """A reason a user can act on, for the errors sqlite gives when the disk is the problem."""
    text = str(error)
    if isinstance(error, sqlite3.OperationalError):
        if "readonly" in text or "read-only" in text:
            return f"the database is read-only ({text}): check the data directory's permissions"
        if "disk is full" in text or "database or disk is full" in text:
            return f"the disk is full ({text}): free space on the data directory's disk"
        if "locked" in text:
            return f"the database is locked by another process ({text})"
    return text or type(error).__name__


def is_read_only(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "readonly" in str(error)


def fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not isinstance(error, (sqlite3.Error, StorageError)):
        logger.error("storage operation failed", exc_info=error)
    if future.done():
        return
    if isinstance(error, StorageError):
        future.set_exception(error)
    else:
        future.set_exception(StorageError(describe(error)))
