"""What ``manage.py load_demo`` asks of each app: the options it was given, passed to every ``load_demo`` hook.

Each app that has demo data declares ``load_demo(self, *, users, now, options)`` on its AppConfig and
returns a one-line summary; the command calls them in INSTALLED_APPS order, so an app finds the data of
the apps it builds on. The first one that creates people (leads) fills ``users`` for those after it.
An app with synthetic bulk data for benchmarks also declares ``load_bulk_demo(self, *, users, now, total)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoOptions:
    demo_leads: int = 160  # realistic demo leads
    bulk_leads: int = 0  # synthetic leads to top up to, for benchmarks
