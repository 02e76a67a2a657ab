"""WhiteNoise's compressed, hashed static files, with each file's URL worked out once a process.

``{% static %}`` asks for the same few names on every page (the frame alone loads four), and each answer
looks the name up in the manifest, then splits, joins and unquotes the URL: about ten microseconds a name.
The manifest is read when the storage is made and does not change until a deploy restarts the process, and
the storage fixes its base URL on first use, so an answer, once given, stays the answer. A name the manifest
does not hold is refused every time it is asked for (manifest_strict), never kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class CachedUrlStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or name is None:
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = super().url(name)
        return url

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        # collectstatic makes a new manifest: what was worked out from the old one no longer holds.
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)
