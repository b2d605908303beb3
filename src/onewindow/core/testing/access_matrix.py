"""Declarative access tests: which actor may do which action to which object.

Every app proves its scoping the same way: a table of cells, each an actor, a request and the
outcome expected, checked in one go so that a failure shows every wrong cell at once::

    CASES = [
        AccessCase(actor="anonymous", method="get", url=detail_url, obj="case_a", expect="login"),
        AccessCase(actor="citizen_a", method="get", url=detail_url, obj="case_a", expect="allowed"),
        AccessCase(actor="citizen_b", method="get", url=detail_url, obj="case_a", expect=404),
    ]

    def test_case_detail_access(client, citizen_a, citizen_b, case_a):
        assert_access_matrix(
            client, CASES,
            actors={"anonymous": None, "citizen_a": citizen_a, "citizen_b": citizen_b},
            objects={"case_a": case_a},
        )

where ``detail_url = lambda objects: reverse("cases:detail", args=[objects["case_a"].pk])``.

Selectors get the same treatment without HTTP: :func:`assert_selector_scoping`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

from onewindow.core.errors import NotFound

Outcome = Literal["allowed", "login"] | int
"""``"allowed"``: 2xx, or a redirect anywhere but a login page (a POST that worked redirects).
``"login"``: 401, or a redirect to the login page or the second-factor page. An int: that exact status."""

_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True, kw_only=True)
class AccessCase:
    """One cell of the matrix.

    ``url``, ``data`` and ``headers`` may be callables taking the ``objects`` mapping, so that a
    case can be declared at module level before its objects exist.
    """

    actor: str
    url: str | Callable[[Mapping[str, Any]], str]
    expect: Outcome
    method: str = "get"
    data: Any = None
    content_type: str | None = None
    headers: Mapping[str, str] | Callable[[Mapping[str, Any]], Mapping[str, str]] | None = None
    obj: str = "-"
    action: str = ""


@dataclass
class _Cell:
    case: AccessCase
    action: str
    got: str
    ok: bool = False


def login_as(client: Client, user: Any | None) -> None:
    """Sign ``client`` in as ``user`` (``None`` signs out), second factor included.

    A user with a confirmed OTP device gets a session already verified by it, the same state
    ``django_otp.login`` leaves after a correct code, so staff-only views let them in.
    """
    client.logout()
    if user is None:
        return
    client.force_login(user)
    device = next(iter(devices_for_user(user, confirmed=True)), None)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


# Where staff without a verified second factor are sent; like the login page, it means "sign in first".
SECOND_FACTOR_URL = "accounts:verify"


def _login_view_names() -> set[str]:
    names = set()
    for target in (settings.LOGIN_URL, SECOND_FACTOR_URL):
        try:
            names.add(resolve(urlsplit(resolve_url(target)).path).view_name)
        except (NoReverseMatch, Resolver404):
            continue
    return names


def _is_login_redirect(location: str, login_views: set[str]) -> bool:
    try:
        return resolve(urlsplit(location).path).view_name in login_views
    except Resolver404:
        return False


def describe_response(response: HttpResponse, login_views: set[str] | None = None) -> tuple[Outcome, str]:
    """Classify a response as an :data:`Outcome` and describe it for the report."""
    status = response.status_code
    if login_views is None:
        login_views = _login_view_names()
    if status in _REDIRECTS:
        location = response["Location"]
        if _is_login_redirect(location, login_views):
            return "login", f"login ({status} → {location})"
        return "allowed", f"allowed ({status} → {location})"
    if status == 401:
        return "login", "login (401)"
    if 200 <= status < 300:
        return "allowed", f"allowed ({status})"
    return status, str(status)


def _matches(expect: Outcome, outcome: Outcome, status: int) -> bool:
    if expect in ("allowed", "login"):
        return outcome == expect
    return status == expect


def _resolve(value: Any, objects: Mapping[str, Any]) -> Any:
    return value(objects) if callable(value) else value


def _run_cell(client: Client, case: AccessCase, objects: Mapping[str, Any], login_views: set[str]) -> _Cell:
    try:
        url = _resolve(case.url, objects)
    except Exception as exc:  # a broken cell is reported with the others
        return _Cell(case, case.action or f"{case.method.upper()} ?", f"url failed: {exc!r}")
    action = case.action or f"{case.method.upper()} {url}"
    kwargs: dict[str, Any] = {}
    data = _resolve(case.data, objects)
    if data is not None:
        kwargs["data"] = data
    if case.content_type:
        kwargs["content_type"] = case.content_type
    headers = _resolve(case.headers, objects)
    if headers:
        kwargs["headers"] = dict(headers)
    try:
        response = getattr(client, case.method.lower())(url, **kwargs)
    except Exception as exc:  # a crashing view is a wrong cell, not an aborted matrix
        return _Cell(case, action, f"raised {exc!r}")
    outcome, described = describe_response(response, login_views)
    return _Cell(case, action, described, _matches(case.expect, outcome, response.status_code))


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def assert_access_matrix(
    client: Client,
    cases: Iterable[AccessCase],
    actors: Mapping[str, Any | None],
    objects: Mapping[str, Any] | None = None,
    *,
    sign_in: Callable[[Client, Any], None] = login_as,
) -> None:
    """Check every cell and fail once, listing every wrong cell as actor × object × action.

    ``actors`` maps each name used in ``cases`` to a user, or ``None`` for an anonymous visitor.
    Cells run in the order given (a cell may change state a later cell relies on); the client
    signs in again with ``sign_in`` whenever the actor changes.
    """
    cases = list(cases)
    objects = objects or {}
    unknown = sorted({case.actor for case in cases} - set(actors))
    if unknown:
        raise ValueError(f"actors not given: {', '.join(unknown)}")
    login_views = _login_view_names()
    cells = []
    current: str | None = None
    for case in cases:
        if case.actor != current:
            client.logout()
            if actors[case.actor] is not None:
                sign_in(client, actors[case.actor])
            current = case.actor
        cells.append(_run_cell(client, case, objects, login_views))
    client.logout()
    wrong = [cell for cell in cells if not cell.ok]
    if wrong:
        rows = [("actor", "object", "action", "expected", "got")]
        rows += [(c.case.actor, c.case.obj, c.action, str(c.case.expect), c.got) for c in wrong]
        raise AssertionError(f"access matrix: {len(wrong)} of {len(cells)} cells wrong\n{_table(rows)}")


def _key(obj: Any) -> tuple[str, Any]:
    meta = getattr(obj, "_meta", None)
    return (meta.label if meta else type(obj).__name__, getattr(obj, "pk", obj))


def assert_selector_scoping(
    selector: Callable[..., Any],
    actor: Any,
    *,
    visible: Iterable[Any] = (),
    hidden: Iterable[Any] = (),
    lookup: Callable[[Any], Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> None:
    """Prove a selector shows ``actor`` exactly what it should, reporting every mistake at once.

    A list selector (no ``lookup``) is called once as ``selector(actor=actor, **kwargs)``; every
    ``visible`` object must be in the result and no ``hidden`` one. A detail selector takes
    ``lookup(obj)``, the keyword arguments that fetch ``obj``: it must return the object for each
    visible one and raise :class:`~onewindow.core.errors.NotFound` for each hidden one.
    """
    visible, hidden = list(visible), list(hidden)
    problems: list[str] = []
    if lookup is None:
        found = {_key(obj) for obj in selector(actor=actor, **kwargs)}
        problems += [f"visible but missing: {obj!r}" for obj in visible if _key(obj) not in found]
        problems += [f"hidden but returned: {obj!r}" for obj in hidden if _key(obj) in found]
    else:
        for obj in visible:
            try:
                got = selector(actor=actor, **lookup(obj), **kwargs)
            except NotFound:
                problems.append(f"visible but NotFound: {obj!r}")
                continue
            if _key(got) != _key(obj):
                problems.append(f"visible but returned {got!r} instead of {obj!r}")
        for obj in hidden:
            try:
                got = selector(actor=actor, **lookup(obj), **kwargs)
            except NotFound:
                continue
            problems.append(f"hidden but returned: {got!r}")
    if problems:
        name = getattr(selector, "__qualname__", repr(selector))
        raise AssertionError(f"{name} for {actor!r}: {len(problems)} wrong\n" + "\n".join(problems))
