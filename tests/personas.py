"""The people tests act as: a user in one role, and a test client signed in as someone.

Fixtures for the usual personas (``marketer``, ``manager``, ``rep``, ``other_rep``) are in the root
conftest.py and are built with ``user_in``; a test that needs a client signed in imports ``client_for``.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.test import Client

from leads.tests.factories import UserFactory


def user_in(group_name: str, username: str, *, is_staff: bool = False) -> User:
    user: User = UserFactory(username=username, is_staff=is_staff)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
