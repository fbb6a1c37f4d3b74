"""The status page's history on disk: `data_dir/wallbox_history.json`, so a
restart keeps the charts and the commands (page_history.py says what is kept).

Written whole, atomically (a temporary file renamed over it), every
SAVE_EVERY_S from a worker thread and once more when the proxy stops; a few
hundred kilobytes at most (test_page_keep.py measures a day), so a rewrite
costs less than a database table and its migration would. A missing or
unreadable file starts the charts empty, with a warning for the unreadable.
"""

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FILE = "wallbox_history.json"
SAVE_EVERY_S = 300.0


def read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        logger.warning("status page: %s is unreadable (%s): the charts start empty", path, e)
        return {}


def write(path: Path, doc: dict[str, Any]) -> int:
    """Replace the file with `doc`; returns its size in bytes."""
    data = json.dumps(doc, separators=(",", ":")).encode()
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except OSError as e:
        logger.warning("status page: cannot write %s (%s): the charts start empty after a restart",
                       path, e)  # fmt: skip
    return len(data)
