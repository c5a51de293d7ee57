"""The message catalogues: Vietnamese is complete, and the pages use it.

The compiled .mo files are build output (`make messages`); the session fixture
`compiled_catalogues` in tests/conftest.py compiles any that are missing or
older than their .po, so these tests run on a fresh checkout too.
"""

import re
from collections import Counter
from collections.abc import Collection
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

from tests.wording import vi

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
VI_PO = LOCALE_DIR / "vi" / "LC_MESSAGES" / "django.po"

# Named %(name)s and template {{ var }} placeholders are unambiguous; positional
# %s / %d and brace {name} count only where xgettext flagged the message so.
NAMED = re.compile(r"%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]|\{\{\s*[\w.]+\s*\}\}")
POSITIONAL = re.compile(r"%[#0+-]*\d*(?:\.\d+)?[sdifr]")
BRACE = re.compile(r"\{\w*\}")


def read_catalogue(po: Path) -> Catalog:
    with po.open("rb") as f:
        return read_po(f, locale=po.parent.parent.name)


def messages(catalogue: Catalog) -> list[Message]:
    return [m for m in catalogue if m.id]


def msgids(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def msgstrs(message: Message, nplurals: int) -> tuple[str, ...]:
    """The translation(s), one per plural form the catalogue declares."""
    string = message.string
    if isinstance(string, str):
        return (string,)
    strings = tuple(string or ())
    return tuple(strings[i] if i < len(strings) else "" for i in range(nplurals))


def placeholders(text: str, flags: Collection[str] = ()) -> Counter[str]:
    found = Counter(NAMED.findall(text.replace("%%", "")))
    if "python-format" in flags:
        found.update(POSITIONAL.findall(NAMED.sub("", text.replace("%%", ""))))
    if "python-brace-format" in flags:
        found.update(BRACE.findall(text.replace("{{", "").replace("}}", "")))
    return found


@pytest.fixture(scope="module")
def vi_catalogue() -> Catalog:
    return read_catalogue(VI_PO)


# --- (a) the Vietnamese catalogue is complete -------------------------------------


def test_vi_catalogue_header(vi_catalogue):
    assert not vi_catalogue.fuzzy, "the vi header is still marked fuzzy"
    assert str(vi_catalogue.locale) == "vi"
    assert vi_catalogue.num_plurals == 1
    assert vi_catalogue.plural_expr == "0"


def test_every_vi_message_is_translated_and_not_fuzzy(vi_catalogue):
    nplurals = vi_catalogue.num_plurals
    untranslated = [
        msgids(m)[0]
        for m in messages(vi_catalogue)
        if not all(s.strip() for s in msgstrs(m, nplurals))
    ]
    fuzzy = [msgids(m)[0] for m in messages(vi_catalogue) if m.fuzzy]
    assert messages(vi_catalogue), f"{VI_PO} has no messages"
    assert not untranslated, (
        f"{len(untranslated)} untranslated message(s) in {VI_PO}:\n"
        + "\n".join(f"  {msgid!r}" for msgid in untranslated)
    )
    assert not fuzzy, f"{len(fuzzy)} fuzzy message(s) in {VI_PO}:\n" + "\n".join(
        f"  {msgid!r}" for msgid in fuzzy
    )


# --- (b) placeholders survive translation -------------------------------------


def test_vi_translations_keep_every_placeholder(vi_catalogue):
    problems = []
    for message in messages(vi_catalogue):
        flags = frozenset(message.flags)
        wanted: Counter[str] = Counter()
        for msgid in msgids(message):
            wanted |= placeholders(msgid, flags)
        for msgstr in msgstrs(message, vi_catalogue.num_plurals):
            got = placeholders(msgstr, flags)
            missing = sorted((wanted - got).elements())
            extra = sorted((got - wanted).elements())
            if missing or extra:
                problems.append(
                    f"  {msgids(message)[0]!r} -> {msgstr!r}: "
                    f"missing {missing}, unexpected {extra}"
                )
    assert not problems, "placeholders differ in vi translations:\n" + "\n".join(
        problems
    )


def test_placeholder_pattern():
    assert placeholders("No %(model)s has the code “%(code)s”.") == Counter(
        ["%(model)s", "%(code)s"]
    )
    assert placeholders("100%% of %d {{ unit.name }}", {"python-format"}) == (
        Counter(["%d", "{{ unit.name }}"])
    )
    assert placeholders("100% done, %(n)s left") == Counter(["%(n)s"])
    assert placeholders("{name} of {{ x }}", {"python-brace-format"}) == Counter(
        ["{name}", "{{ x }}"]
    )


# --- (c) the pages speak Vietnamese by default, English on request --------------


@pytest.mark.usefixtures("compiled_catalogues")
def test_plural_messages_use_the_single_vietnamese_form(vi_catalogue):
    plural = [m for m in messages(vi_catalogue) if m.pluralizable]
    with translation.override("vi"):
        for message in plural:
            singular, plural_id = msgids(message)
            for n in (0, 1, 2, 5, 21):
                assert translation.ngettext(singular, plural_id, n) == message.string[0]


# Django's own catalogues translate "Log in" and "Password" too; these strings
# exist only in the portal's, so finding them proves locale/vi is loaded.
PORTAL_ONLY = ("Administrative reform portal", "User name")


@pytest.mark.usefixtures("compiled_catalogues")
def test_login_page_is_vietnamese_by_default(client, db, vi_catalogue):
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert vi("Log in") in html
    assert "Log in" not in html
    for msgid in PORTAL_ONLY:
        assert vi_catalogue[msgid].string in html
        assert msgid not in html


@pytest.mark.usefixtures("compiled_catalogues")
def test_pages_stay_vietnamese_whatever_the_browsers_language(client, db):
    """Officials' machines often run an English browser: the portal speaks
    Vietnamese until the user picks English with the switcher."""
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert vi("Log in") in html


@pytest.mark.usefixtures("compiled_catalogues")
def test_language_switch_sticks_for_the_session(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"

    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert vi("Log in") not in html

    client.post("/i18n/setlang/", {"language": "vi", "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert '<html lang="vi">' in html
    assert vi("Log in") in html
    assert "Log in" not in html
