"""botocore's data files (service models, endpoint rules, partitions) read with orjson.

botocore decodes each of its JSON files with the standard library and an
`OrderedDict` hook: a large model (EC2's) takes tenths of a second, and a
process that creates a handful of clients pays it at start-up. orjson reads
the same files several times faster; plain dicts keep insertion order, which
is all botocore relies on.

`use_orjson(loader)` switches one botocore `Loader` (the collector's shared
one). `install_globally()` switches every loader in the process: only the
embedded AWS's child process does that, where moto builds its own sessions
while it imports (EC2's region tables, read through boto3 at import time).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import orjson
from botocore.loaders import JSONFileLoader


class OrjsonFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore is untyped
    """A `JSONFileLoader` that decodes with orjson."""

    def _load_file(self, full_path: str, open_method: Callable[..., Any]) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            return orjson.loads(fp.read())


def use_orjson(loader: Any) -> None:
    """Read `loader`'s files with orjson (a botocore `Loader`; others are left alone)."""

    if isinstance(getattr(loader, "file_loader", None), JSONFileLoader):
        loader.file_loader = OrjsonFileLoader()


def install_globally() -> None:
    """Every botocore loader of this process reads with orjson (the embedded AWS child only)."""

    JSONFileLoader._load_file = OrjsonFileLoader._load_file


__all__ = ["OrjsonFileLoader", "install_globally", "use_orjson"]
