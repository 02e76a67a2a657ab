"""CPU per request of a signed-in page in process: the WSGI handler called directly, no HTTP, ``DEBUG=0``.

The p95 under wrk moves with the machine's load; the CPU a request costs in process moves far less, so it tells
whether a change to a page made it cheaper. Run it against the inbox bench's database (``inbox_bench.py`` builds it)
and, for comparison, the floor's ``/list`` the same way (``--floor``)::

    .venv/bin/python bench/page_cpu.py /inbox/ --user rep1 [--n 300] [--profile 300]
    .venv/bin/python bench/page_cpu.py /inbox/team/ --user manager
    .venv/bin/python bench/page_cpu.py --floor

``--profile N`` prints cProfile's cumulative table of N more requests; ``--callgrind`` counts the instructions of
the timed requests under valgrind instead (the same count whatever else the machine is doing; use ``--n 100``).
``BENCH_DATABASE_URL`` reads PostgreSQL instead (the server's own CPU is then not counted: compare wall times with
the machine otherwise idle).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import capture_cpu  # noqa: E402
from inbox_bench import DEFAULT_DB, FLOOR, FLOOR_DB, SECRET_KEY, STATIC_ROOT  # noqa: E402


def call_wsgi(app: Callable[..., Any], path: str, cookie: str = "") -> str:
    return capture_cpu.call_wsgi(app, path, headers={"HTTP_COOKIE": cookie}, method="GET")


def project_app(user: str) -> tuple[Callable[..., Any], str]:
    os.environ.update(
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_DB}", SECRET_KEY=SECRET_KEY,
        DEBUG="0", SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="0",
        ALLOWED_HOSTS="127.0.0.1,testserver", STATIC_ROOT=str(STATIC_ROOT), DJANGO_SETTINGS_MODULE="leadsite.settings",
        LOG_LEVEL="WARNING",
    )  # fmt: skip
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.wsgi import get_wsgi_application
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=user))
    name = settings.SESSION_COOKIE_NAME
    return get_wsgi_application(), f"{name}={client.cookies[name].value}"


def floor_app() -> Callable[..., Any]:
    os.environ.setdefault("FLOOR_SQLITE_PATH", str(FLOOR_DB))
    sys.path.insert(0, str(FLOOR))
    import app  # the floor's one file

    return app.application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", default="/list")
    parser.add_argument("--user", default="rep1")
    parser.add_argument("--floor", action="store_true", help="the floor's app (its /list by default)")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--callgrind", action="store_true", help="count instructions under valgrind")
    args = parser.parse_args()
    if args.callgrind and "CAPTURE_CPU_UNDER_VALGRIND" not in os.environ:
        raise SystemExit(capture_cpu.under_callgrind(args.n))
    app, cookie = (floor_app(), "") if args.floor else project_app(args.user)
    for _ in range(20):
        status = call_wsgi(app, args.path, cookie)
    if args.callgrind:
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.n):
        call_wsgi(app, args.path, cookie)
    if args.callgrind:
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    cpu, wall = (time.process_time() - cpu) / args.n * 1000, (time.perf_counter() - wall) / args.n * 1000
    print(f"{args.path} ({status}): {cpu:.2f} ms CPU, {wall:.2f} ms wall a request, {args.n} requests")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.profile):
            call_wsgi(app, args.path, cookie)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
