"""Keep numba's on-disk cache honest for a package whose jitted functions call each other.

numba checks a cached function against its own file only: after an edit to a function it calls
from another file, the stale machine code would keep running. So a package's cache is dropped
whenever any of its source files changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from numba.core.dispatcher import Dispatcher


def drop_stale_cache(
    package: ModuleType, dispatcher: Dispatcher, uses: Sequence[ModuleType] = ()
) -> bool:
    """Delete the cached code of ``package``'s modules if any of its ``.py`` files changed, or
    the file of any module in ``uses`` (jitted code from outside the package that it calls).

    ``dispatcher`` is any ``@njit(cache=True)`` function of the package (it tells where numba
    keeps the package's cache). Returns whether the cache was dropped. A source digest is kept
    beside the cache; a package with no cache yet just records it.
    """
    folder = Path(package.__file__).parent
    sources = sorted(folder.glob("*.py"))
    digest = hashlib.sha256()
    for source in [*sources, *(Path(module.__file__) for module in uses)]:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    cache_folder = Path(dispatcher.stats.cache_path)
    marker = cache_folder / f"{package.__name__}.sources.sha256"
    try:
        if marker.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass
    dropped = False
    for source in sources:
        for cached in cache_folder.glob(f"{source.stem}.*.nb[ic]"):
            cached.unlink(missing_ok=True)
            dropped = True
    try:
        cache_folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(digest.hexdigest())
    except OSError:  # a read-only cache folder: numba itself falls back to not caching
        pass
    return dropped
