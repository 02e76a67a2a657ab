"""CPU per captured submission in process: the WSGI handler called directly, no HTTP, ``DEBUG=0``.

Under wrk the capture bench's ratios move with the machine's load; the CPU one submission costs in process moves
far less, so it tells whether a change made capture cheaper. It builds a fresh SQLite database (or uses
``BENCH_DATABASE_URL``), the capture bench's form, API key and bodies, then times the public form, the API and the
floor's ``/insert4`` (``--floor``, run in its own process: the floor is its own Django)::

    .venv/bin/python bench/capture_cpu.py form [--n 1000] [--profile 500] [--queries]
    .venv/bin/python bench/capture_cpu.py api [--returning 50]
    .venv/bin/python bench/capture_cpu.py --floor

``--returning K`` (the API) sends one of the first K bodies again each time: a known person's capture, a merge.
``--without-writes`` replaces the capture service (``leads.submissions.submit_form`` / ``submit_form_from_api``) with
one that stores nothing and returns an unsaved submission: what the request costs beside the capture's statements
(middleware, the render token, the form or serializer, the response), the least any capture behind this request
stack could cost.
``--profile N`` prints cProfile's table of N more requests (sorted by ``--sort``); ``--queries`` prints the SQL
of one request. ``--callgrind`` counts the instructions of the timed requests under valgrind's callgrind instead:
the same count for the same code whatever else the machine is doing (run ``--n 200`` or so: it is 50 times slower).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from capture_bench import FLOOR, FORM_SLUG, SETUP, project_env  # noqa: E402


def call_wsgi(
    app: Callable[..., Any],
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
) -> str:
    """Call the WSGI ``app`` as a server would, read the whole response, and return its status line."""
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "SCRIPT_NAME": "",
        "PATH_INFO": route, "QUERY_STRING": query, "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body)),
        **(headers or {}),
    }  # fmt: skip
    status: list[str] = []
    response = app(environ, lambda line, response_headers: status.append(line))
    b"".join(response)
    response.close()
    return status[0]


def floor_requests(n: int) -> tuple[Callable[..., Any], Callable[[int], tuple[str, bytes, dict[str, str]]]]:
    tmp = Path(tempfile.mkdtemp(prefix="capture-cpu-floor-"))
    env = dict(os.environ, FLOOR_DB="sqlite", FLOOR_SQLITE_PATH=str(tmp / "floor.sqlite3"))
    subprocess.run([sys.executable, "seed.py", "sqlite", "--rows", "200000"], cwd=FLOOR, env=env, check=True,
                   capture_output=True)  # fmt: skip
    os.environ.update(FLOOR_SQLITE_PATH=env["FLOOR_SQLITE_PATH"])
    sys.path.insert(0, str(FLOOR))
    import app  # the floor's one file

    return app.application, lambda i: ("/insert4", b"", {})


def project_requests(
    work: str, n: int
) -> tuple[Callable[..., Any], Callable[[int], tuple[str, bytes, dict[str, str]]]]:
    tmp = Path(tempfile.mkdtemp(prefix="capture-cpu-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'project.sqlite3'}"
    env = project_env(database_url, tmp)
    env.pop("PROXY_COUNT")  # the client address is REMOTE_ADDR here, one per request
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([py, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    subprocess.run([py, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    setup = subprocess.run(
        [py, "manage.py", "shell", "-c", f"import sys; sys.argv=['x', '{n}', '{tmp / 'bodies'}']\n{SETUP}"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    api_key = setup.stdout.strip().splitlines()[-1]
    bodies = (tmp / f"bodies.{work}").read_bytes().splitlines()
    os.environ.update(env, DJANGO_SETTINGS_MODULE="leadsite.settings", LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT))
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    if work == "form":
        form_headers = {"CONTENT_TYPE": "application/x-www-form-urlencoded"}

        def form(i: int) -> tuple[str, bytes, dict[str, str]]:
            ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
            return f"/f/{FORM_SLUG}/", bodies[i], {**form_headers, "REMOTE_ADDR": ip}

        return app, form
    api_headers = {"CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    return app, lambda i: ("/api/submissions/", bodies[i], api_headers)


def _returning(
    request: Callable[[int], tuple[str, bytes, dict[str, str]]], k: int
) -> Callable[[int], tuple[str, bytes, dict[str, str]]]:
    # The API gives each submission its own key, so the same body again is the same person sending a new one.
    return lambda i: request(i % k)


def _stand_in_for_writes() -> None:
    """Replace the capture service by one that stores nothing: the form's spam checks still run (the per-address
    count is a read), and the submission it returns names a lead, so the view sets the visitor's cookie as it does
    after a real capture. What is left out is the capture's writes and the Python that prepares them."""
    from itertools import count

    from leads import spam, submissions
    from leads.models import Lead, Submission

    ids = count(10**9)

    def stored_nothing(*, form: Any, consent_text: Any, answers: Any, client: Any, now: Any) -> Any:
        submission = Submission(
            id=next(ids), form=form, consent_text=consent_text, payload=dict(answers), submitted_at=now,
            ip_address=client.ip_address, user_agent=client.user_agent[:500], idempotency_key=str(next(ids)),
        )  # fmt: skip
        # A new lead, in memory only: the view reads whether the submission created it (``_is_visitors_lead``).
        submission.lead = Lead(id=next(ids), created_at=now)
        return submissions.SubmitResult(submission=submission, is_duplicate=False)

    def form_stores_nothing(*, render: Any, honeypot: str, client: Any, now: Any, **rest: Any) -> Any:
        spam.check_submission(honeypot=honeypot, rendered_at=render.rendered_at, ip_address=client.ip_address, now=now)
        return stored_nothing(client=client, now=now, **{key: rest[key] for key in ("form", "consent_text", "answers")})

    def api_stores_nothing(*, client: Any, now: Any, **rest: Any) -> Any:
        return stored_nothing(client=client, now=now, **{key: rest[key] for key in ("form", "consent_text", "answers")})

    submissions.submit_form = form_stores_nothing
    submissions.submit_form_from_api = api_stores_nothing


def under_callgrind(n: int) -> int:
    """Run this command again under callgrind, instrumenting only the timed requests; print instructions a request."""
    out = Path(tempfile.mkdtemp(prefix="capture-cpu-cg-")) / "callgrind.out"
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", sys.executable,
           *sys.argv]  # fmt: skip
    done = subprocess.run(cmd, env={**os.environ, "CAPTURE_CPU_UNDER_VALGRIND": "1"}, capture_output=True, text=True)
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:])
    totals = [line for line in out.read_text().splitlines() if line.startswith(("summary:", "totals:"))]
    instructions = int(totals[-1].split()[1])
    print(f"{instructions / n / 1e6:.3f} M instructions a request ({instructions:,} for {n}); profile in {out}")
    return done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work", nargs="?", choices=["form", "api"], default="form")
    parser.add_argument("--floor", action="store_true", help="the floor's POST /insert4")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--queries", action="store_true")
    parser.add_argument(
        "--returning", type=int, default=0, metavar="K",
        help="API only: every request sends one of the first K bodies again, a known person submitting once more",
    )  # fmt: skip
    parser.add_argument("--callgrind", action="store_true", help="count instructions under valgrind")
    parser.add_argument("--without-writes", action="store_true", help="the request without the capture's writes")
    args = parser.parse_args()
    if args.callgrind and "CAPTURE_CPU_UNDER_VALGRIND" not in os.environ:
        raise SystemExit(under_callgrind(args.n))
    total = max(50, args.returning) + args.n + args.profile + 1  # the warm-up, timed, profiled and --queries requests
    app, request = floor_requests(total) if args.floor else project_requests(args.work, total)
    if args.returning:
        if args.floor or args.work != "api":
            raise SystemExit("--returning is for the API: a form body's render token is good for one submission")
        request = _returning(request, args.returning)
    label = "floor /insert4" if args.floor else args.work
    if args.without_writes and not args.floor:
        _stand_in_for_writes()
        label += " without its writes"
    warm_up = max(50, args.returning)  # with --returning, every known person is stored before the timing
    for i in range(warm_up):
        status = call_wsgi(app, *request(i))
    if args.callgrind:
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(warm_up, warm_up + args.n):
        status = call_wsgi(app, *request(i))
    if args.callgrind:
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    cpu, wall = (time.process_time() - cpu) / args.n * 1000, (time.perf_counter() - wall) / args.n * 1000
    print(f"{label} ({status}): {cpu:.3f} ms CPU, {wall:.3f} ms wall a request, {args.n} requests")
    next_i = warm_up + args.n
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for i in range(next_i, next_i + args.profile):
            call_wsgi(app, *request(i))
        profile.disable()
        next_i += args.profile
        if os.environ.get("CAPTURE_CPU_DUMP"):
            profile.dump_stats(os.environ["CAPTURE_CPU_DUMP"])
        pstats.Stats(profile).sort_stats(args.sort).print_stats(70)
    if args.queries and not args.floor:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            call_wsgi(app, *request(next_i))
        for query in queries.captured_queries:
            print(query["sql"][:300])
        print(f"{len(queries.captured_queries)} queries")


if __name__ == "__main__":
    main()
