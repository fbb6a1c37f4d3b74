"""Checking options in `configure`: one way to turn a parser's ValueError into
mitmproxy's OptionsError, so every message starts with the option's name."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions


def checked[T](
    updated: set[str], name: str, parse: Callable[[Any], T], *, unless_empty: bool = False
) -> T | None:
    """`parse(value)` of option `name` when it is among `updated` (and, with
    `unless_empty`, set); None otherwise. A ValueError names the option."""
    if name not in updated:
        return None
    value = getattr(ctx.options, name)
    if unless_empty and not value:
        return None
    try:
        return parse(value)
    except ValueError as e:
        raise exceptions.OptionsError(f"{name}: {e}") from None


def check_file(updated: set[str], name: str) -> None:
    """A file option, when set, must name an existing file (a CA file, say)."""
    value = getattr(ctx.options, name)
    if name in updated and value and not Path(value).is_file():
        raise exceptions.OptionsError(f"{name} {value}: no such file")


def check_range(updated: set[str], name: str, low: int, high: int, rule: str) -> None:
    """An int option within low..high; `rule` says it in the user's words."""
    if name in updated and not low <= getattr(ctx.options, name) <= high:
        raise exceptions.OptionsError(f"{name} must be {rule}")
