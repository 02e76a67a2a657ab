import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadsite.settings import email_settings

PROJECT = Path(__file__).resolve().parents[2]


# Variables of the test run that must not leak into the "production" process under test.
INHERITED_SETTINGS = {
    "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SITE_URL", "HOST", "PORT",
}  # fmt: skip


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in INHERITED_SETTINGS}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env={**clean, **env}, capture_output=True, text=True
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k8$Jm2vQ!pL9xR4tW7zB1nC5yH3eG6fA0sD-uI_oP+qT8rE2wY4",
    "ALLOWED_HOSTS": "leads.example.com",
    "SITE_URL": "https://leads.example.com",
}


def test_check_deploy_is_clean_under_production_variables() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_site_url_is_not_set() -> None:
    production = {name: value for name, value in PRODUCTION.items() if name != "SITE_URL"}

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production)

    assert result.returncode != 0
    assert "leadsite.W001" in result.stderr


def site_url(**env: str) -> str:
    code = "from django.conf import settings; print(settings.SITE_URL)"
    return run_manage("shell", "-v", "0", "-c", code, env={"DEBUG": "1", **env}).stdout.strip()


def test_site_url_follows_the_port_the_run_command_serves_on() -> None:
    assert site_url(PORT="8741") == "http://127.0.0.1:8741"


def test_a_set_site_url_wins_over_the_port() -> None:
    assert site_url(PORT="8741", SITE_URL="https://leads.example.com/") == "https://leads.example.com"


def test_check_deploy_flags_debug_mode() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "DEBUG": "1"})

    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off() -> None:
    result = run_manage("check", env={"DEBUG": "0"})

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_default_sqlite_database_runs_in_wal_mode_with_immediate_transactions(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
        "print(connection.settings_dict['OPTIONS']['transaction_mode'])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadsite.settings", "DEBUG": "1"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'wal.sqlite3'}"

    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True)

    assert result.stdout.split() == ["wal", "IMMEDIATE"], result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console:", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://mailer:p%40ss@smtp.example.com:587?tls=1",
            {"EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "mailer",
             "EMAIL_HOST_PASSWORD": "p@ss", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False},
        ),
        ("smtps://smtp.example.com", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
    ],
)  # fmt: skip
def test_email_url_sets_the_email_backend(url: str, expected: dict[str, object]) -> None:
    settings = email_settings(url)

    assert {key: settings[key] for key in expected} == expected


def database_options(**env: str) -> str:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))",
        env={**PRODUCTION, "DATABASE_URL": "postgres://leads@db.example.com:5432/leads", **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's own line about what it imported


def test_postgresql_binds_on_the_server_and_prepares_repeated_statements() -> None:
    assert database_options() == "[('prepare_threshold', 2), ('server_side_binding', True)]"


def test_prepared_statements_can_be_switched_off_for_a_pooler() -> None:
    assert database_options(DATABASE_PREPARED_STATEMENTS="0") == "[]"
