"""Queue django-q2 tasks through one broker per process: import ``async_task`` from here.

``async_task`` makes a new broker on every call unless it is given one, and a Redis broker is a new
connection pool, so every capture's wake-up opened (and dropped) a connection to Redis. The broker made
here is kept for the life of the process; Redis clients reconnect on their own after a failure, and
redis-py's pool notices a fork, so a gunicorn worker never shares its parent's sockets.
"""

from __future__ import annotations

import threading
from typing import Any

from django_q.brokers import Broker, get_broker
from django_q.tasks import async_task as _async_task

_lock = threading.Lock()
_brokers: dict[str, Broker] = {}


def async_task(func: Any, *args: Any, **kwargs: Any) -> Any:
    """django-q2's ``async_task`` on this process's broker (unless given one); returns the task id."""
    kwargs.setdefault("broker", _broker())
    return _async_task(func, *args, **kwargs)


def _broker() -> Broker:
    from django_q.conf import Conf

    # Keyed by the queue's name: a test or a settings override that renames the cluster gets its own.
    name = Conf.CLUSTER_NAME
    broker = _brokers.get(name)
    if broker is None:
        with _lock:
            broker = _brokers.setdefault(name, get_broker(name))
    return broker
