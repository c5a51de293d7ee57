"""The Content-Security-Policy: every answer carries it, no template holds
what it would refuse (inline scripts, event handlers, javascript: links,
style attributes or style elements without the nonce), and the pages that
need an inline style carry the nonce the header names."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from commitments.models import Commitment

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered only into PDFs by WeasyPrint (scoring.results.exports), never sent to a
# browser: their inline styles are no business of the policy.
PDF_ONLY = {"scoring/exports/_style.html", "scoring/exports/ranking.html",
            "scoring/exports/unit.html"}  # fmt: skip

REFUSED = {
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "a javascript: link": re.compile(r"javascript:", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "an inline script": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I
    ),
    "a style element without the nonce": re.compile(
        r"<style(?![^>]*nonce=)[^>]*>", re.I
    ),
}


def nonce_of(response) -> str:
    policy = response["Content-Security-Policy"]
    found = re.search(r"style-src 'self' 'nonce-([^']+)'", policy)
    assert found, policy
    return found.group(1)


def test_every_page_carries_the_policy(client, db):
    response = client.get(reverse("login"))
    directives = dict(
        part.strip().split(" ", 1)
        for part in response["Content-Security-Policy"].split(";")
    )
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        # No page here used the nonce: none is named.
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }


def test_api_answers_carry_the_policy_too(client, db):
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "template",
    sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if str(path.relative_to(TEMPLATES)) not in PDF_ONLY
    ),
)
def test_no_template_holds_what_the_policy_refuses(template):
    text = (TEMPLATES / template).read_text()
    found = {
        what: match.group(0)
        for what, pattern in REFUSED.items()
        if (match := pattern.search(text))
    }
    assert found == {}, template


def test_the_printed_commitment_styles_itself_with_the_nonce(client, org, reviewer):
    commitment = Commitment.objects.create(unit=org.commune_a, year=2024)
    client.force_login(reviewer)
    response = client.get(reverse("commitment_print", kwargs={"pk": commitment.pk}))
    assert response.status_code == 200
    assert f'<style nonce="{nonce_of(response)}">' in response.content.decode()


def test_redoc_alone_may_style_inline_and_search_in_a_worker(client, commune_staff):
    """Redoc's styles are written as its bundle loads, before any nonce could
    reach them; its scripts and images are held as every page's."""
    client.force_login(commune_staff)
    policy = client.get(reverse("api_redoc"))["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "worker-src 'self' blob:" in policy
    assert "script-src 'self';" in policy
    assert "img-src 'self' data:;" in policy
    swagger = client.get(reverse("api_docs"))["Content-Security-Policy"]
    assert "unsafe-inline" not in swagger
