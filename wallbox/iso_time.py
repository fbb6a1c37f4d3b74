"""How the status JSON writes times: 2026-11-21T10:00:00Z, pure."""

from datetime import UTC, datetime


def iso_at(wall_now: float, at: float, now: float) -> str:
    """The wall-clock time of the monotonic moment `at`, given that `now` (monotonic)
    is `wall_now` (epoch seconds)."""
    wall = datetime.fromtimestamp(wall_now - (now - at), UTC)
    return wall.isoformat(timespec="seconds").replace("+00:00", "Z")
