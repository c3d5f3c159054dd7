"""One root for every error the harvester raises on purpose, and the one way secrets are hidden.

Bad SQL is never an exception (it is a result with an ``error``); these are for
configuration, sources and stores. Every message an error carries passes through
``hide_secrets`` when the error is made, whoever wrote it and whatever driver text it quotes.

>>> hide_secrets("postgresql://ann:pw@db/app?sslmode=require&password=pw2")
'postgresql://ann:***@db/app?sslmode=require&password=***'
>>> hide_secrets("host=db password='a b' user=ann")
'host=db password=*** user=ann'
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"
# Words that make a URL parameter or DSN keyword a secret (compared without case, '_' or '-').
SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "passphrase", "credential", "apikey",
                "privatekey", "accesskey", "signature")
MIN_LITERAL = 4  # a known secret shorter than this is not searched for as bare text (it would garble words)

# A URL runs to white space, a double quote or an angle bracket; a single quote may be in a password
# (only the password is replaced, so a URL quoted in '..' keeps its quotes).
_URL = re.compile(r"\b(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>[^\s\"<>]*)")
_SETTING = re.compile(
    r"(?<![\w.-])(?P<key>[A-Za-z_][\w.-]*)(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&#;'\",)]+?(?=[\s&#;'\",)]|:\s|:$|$))")


def secret_name(name: str) -> bool:
    """Whether a URL parameter or DSN keyword names a secret.

    >>> [secret_name(n) for n in ("password", "private_key_file_pwd", "access_token", "sslmode", "key")]
    [True, True, True, False, True]
    """
    plain = re.sub(r"[^a-z0-9]", "", name.lower())
    return any(word in plain for word in SECRET_WORDS) or plain.endswith("key") or plain == "sig"


def split_userinfo(rest: str) -> tuple[str, str, str] | None:
    """(user, password, the rest after '@') of what follows ``scheme://``, None without a password.
    The userinfo ends at the last '@' before any '?' or '#', so a '/' or '@' in a password is kept in it."""
    before_query = re.split(r"[?#]", rest, maxsplit=1)[0]
    at = before_query.rfind("@")
    if at < 0 and ":" in rest.split("@", 1)[0] and "@" in rest:
        # a '?' or '#' in the password itself: the userinfo ends at the last '@' before the path
        first = rest.index("@")
        slash = rest.find("/", first)
        at = rest.rfind("@", 0, slash if slash >= 0 else len(rest))
        before_query = rest
    if at < 0:
        return None
    user, colon, password = before_query[:at].partition(":")
    if not colon or "/" in user:
        return None
    return user, password, rest[at + 1:]


def hide_secrets(text: str, *known: str) -> str:
    """``text`` as it may be printed: the password of every URL (``user:***@``), every URL parameter
    and DSN keyword that names a secret (``password=***``, ``token=***``, ...); and every secret of the
    URLs or DSNs in ``known`` wherever it appears bare (a driver quoting a bad value)."""
    def url(match: re.Match[str]) -> str:
        found = split_userinfo(match["rest"])
        if found is None or not found[1]:
            return match[0]
        return f"{match['head']}{found[0]}:{MASK}@{found[2]}"

    def setting(match: re.Match[str]) -> str:
        if not secret_name(match["key"]) or match["value"] == MASK:
            return match[0]
        return f"{match['key']}{match['eq']}{MASK}"

    shown = _SETTING.sub(setting, _URL.sub(url, text))
    for secret in sorted({s for k in known for s in secrets_of(k)}, key=len, reverse=True):
        shown = shown.replace(secret, MASK)
    return shown


def secrets_of(text: str) -> set[str]:
    """The secret values a URL or DSN holds, as written and decoded, long enough to search for."""
    found: set[str] = set()
    for match in _URL.finditer(text):
        parts = split_userinfo(match["rest"])
        if parts is not None:
            found.add(parts[1])
    for match in _SETTING.finditer(text):
        if secret_name(match["key"]):
            value = match["value"]
            found.add(value[1:-1].replace("\\", "") if value[:1] in "'\"" else value)
    found |= {unquote(s) for s in found}
    return {s for s in found if len(s) >= MIN_LITERAL and s != MASK}


class HarvesterError(Exception):
    """Root of the harvester's own errors. Its message never holds a secret (``hide_secrets``)."""

    exit_code = 1

    def __init__(self, *args: object) -> None:
        super().__init__(*(hide_secrets(a) if isinstance(a, str) else a for a in args))


class ConfigError(HarvesterError):
    """A wrong option, an unknown dialect, an unreadable catalog file."""

    exit_code = 2
