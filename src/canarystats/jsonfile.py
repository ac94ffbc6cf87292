"""Reading a JSON file a user named, with one line naming the file for whatever is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from canarystats.errors import DataError

__all__ = ["read_json_file"]


def read_json_file(path: str | Path, label: str) -> Any:
    """The parsed contents of ``path``; a missing, unreadable or malformed file is a DataError.

    ``label`` starts each message (the flag and the path, e.g. ``--monitor-states s.json``).

    Examples
    --------
    >>> read_json_file("no-such-file.json", "--monitors no-such-file.json")
    Traceback (most recent call last):
    canarystats.errors.DataError: --monitors no-such-file.json: no such file; check the path
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{label}: no such file; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{label}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{label}: not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
