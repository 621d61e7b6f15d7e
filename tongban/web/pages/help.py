"""Help, the privacy notice and the accessibility statement: public pages in both languages,
linked from every page's footer.

The accessibility statement claims only what is checked: ``CHECKED_PAGES`` lists the pages
``tests/web/test_help_pages.py`` runs axe-core over (its WCAG 2.0 and 2.1 level A and AA rules)
and holds to a 390 px wide screen without sideways scrolling, and the statement lists the same
pages with what is known not to conform."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tongban.applications import remedies
from tongban.config import get_settings
from tongban.kit.i18n import N_
from tongban.web.deps import PageSubject, public
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)

# The rule tags of axe-core the check runs (WCAG 2.0 and 2.1, levels A and AA).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# The widths the pages are checked at: a desktop and a phone (reflow, WCAG 1.4.10).
WIDTHS = (1280, 390)


@dataclass(frozen=True)
class CheckedPage:
    # A path; {number} is a draft (applicant) or a submitted case (official) of the check's own.
    path: str
    name: str  # English msgid
    # Who opens it: a visitor, an applicant or an official.
    who: str


CHECKED_PAGES = (
    CheckedPage("/", N_("Home page"), "visitor"),
    CheckedPage("/items", N_("Services (search)"), "visitor"),
    CheckedPage("/items/SAMR-0001", N_("A service guide"), "visitor"),
    CheckedPage("/bundles", N_("One thing, one go"), "visitor"),
    CheckedPage("/bundles/OPEN-SHOP", N_("A bundle's questions"), "visitor"),
    CheckedPage("/track", N_("Follow an application"), "visitor"),
    CheckedPage("/licences/verify", N_("Verify a licence"), "visitor"),
    CheckedPage("/satisfaction", N_("Satisfaction"), "visitor"),
    CheckedPage("/bookings/new?item=SAMR-0001", N_("Booking a counter visit"), "visitor"),
    CheckedPage("/login", N_("Sign in"), "visitor"),
    CheckedPage("/register", N_("Register"), "visitor"),
    CheckedPage("/help", N_("Help"), "visitor"),
    CheckedPage("/privacy", N_("Privacy notice"), "visitor"),
    CheckedPage("/accessibility", N_("Accessibility statement"), "visitor"),
    CheckedPage("/applications", N_("My applications"), "applicant"),
    CheckedPage("/applications/{number}/edit", N_("Filling in an application"), "applicant"),
    CheckedPage("/me/data-use", N_("Who used my data"), "applicant"),
    CheckedPage("/me/offers", N_("Services for you"), "applicant"),
    CheckedPage("/licences", N_("My licences"), "applicant"),
    CheckedPage("/bookings", N_("My bookings"), "applicant"),
    CheckedPage("/notifications", N_("Messages"), "applicant"),
    CheckedPage("/account", N_("My account"), "applicant"),
    CheckedPage("/queue", N_("Work queue"), "official"),
    CheckedPage("/queue/{number}", N_("A case, as the department sees it"), "official"),
    CheckedPage("/queue/search?item=SAMR-0001", N_("Search cases"), "official"),
)


@router.get(public("/help"), response_class=HTMLResponse)
def help_page(request: Request, subject: PageSubject) -> Response:
    """How to apply, how to follow an application, how to complain or appeal."""
    return render(request, "help/help.html", subject, remedies=remedies.current())


@router.get(public("/privacy"), response_class=HTMLResponse)
def privacy(request: Request, subject: PageSubject) -> Response:
    """What personal data the platform holds, why, who may read it, and the person's rights."""
    settings = get_settings()
    return render(
        request,
        "help/privacy.html",
        subject,
        idle_minutes=settings.session_idle_minutes,
        session_hours=settings.session_hours,
    )


@router.get(public("/accessibility"), response_class=HTMLResponse)
def accessibility(request: Request, subject: PageSubject) -> Response:
    """The WCAG level the pages meet, as checked, and what does not conform yet."""
    return render(
        request,
        "help/accessibility.html",
        subject,
        checked=CHECKED_PAGES,
        widths=WIDTHS,
        idle_minutes=get_settings().session_idle_minutes,
    )
