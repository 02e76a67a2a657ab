"""The key format and hash (pure code: no database)."""

import hashlib

from integrations import keys


def test_a_generated_key_is_its_prefix_a_dot_and_a_long_secret() -> None:
    new = keys.generate_key()

    prefix, _, secret = new.plaintext.partition(".")

    assert (prefix, len(prefix), len(secret) >= 43) == (new.prefix, keys.PREFIX_LENGTH, True)


def test_the_hash_is_sha256_of_the_whole_key() -> None:
    new = keys.generate_key()

    assert new.hashed == hashlib.sha256(new.plaintext.encode()).hexdigest()


def test_matches_accepts_only_the_exact_key() -> None:
    new = keys.generate_key()

    assert (keys.matches(new.plaintext, new.hashed), keys.matches(new.plaintext + "x", new.hashed)) == (True, False)


def test_prefix_of_refuses_what_is_not_shaped_like_a_key() -> None:
    assert [keys.prefix_of(text) for text in ("abcdefgh.secret", "abcdefgh", "short.secret", "abcdefgh.")] == [
        "abcdefgh",
        None,
        None,
        None,
    ]
