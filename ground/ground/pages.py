"""The operators' command page: server-rendered HTML plus the htmx fragments it polls and posts to.

Routes stay as thin as the API's: the send form (forms.py) becomes a ``NewTelecommand``, the
telecommand domain decides, and its outcome (or the reason it refused) is rendered as HTML.
Polled fragments (fragments.py) answer 204 when nothing changed since the version the page
holds. Template filters shared by every page live in filters.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import (
    Blueprint, Response, current_app, g, redirect, render_template, request, url_for,
)

from mission_control.auth import role_allows
from mission_control.authweb import csrf_token, current_identity, requires
from mission_control.status import Status

from . import forms, fragments, telecommands

bp = Blueprint("pages", __name__)
bp.before_request(forms.refuse_cross_site_posts)


@bp.app_context_processor
def _signed_in() -> dict[str, Any]:
    """Who is signed in, their session's CSRF token for every form and htmx request, and
    whether they may send and cancel (a viewer sees neither the send form nor Cancel)."""
    identity = g.get("identity")
    return {"identity": identity, "csrf": csrf_token(identity) if identity else "",
            "can_operate": identity is not None and role_allows(identity.role, OPERATE)}


OPERATE = "operator"  # the role that sends and cancels from the page


def database():
    return current_app.extensions["database"]


# --- the page and its form ----------------------------------------------------------------

@bp.get("/")
def index():
    """The operators' page: send form, live command queue (?status= and ?target= filter it;
    the send form starts on the filtered target)."""
    shown = fragments.queue_filter(request.args)
    with database().transaction() as session:
        form = forms.form_context(forms.target_choices(session), target_id=shown.target)
        queue = fragments.queue_body(session, shown)
    return render_template("index.html", form=form, queue=queue, status=shown.status,
                           statuses=list(Status))


@bp.get("/ui/command-fields")
def command_fields():
    """Fragment: the command select and argument fields for the chosen target."""
    with database().transaction() as session:
        form = forms.form_context(forms.target_choices(session),
                                  target_id=request.args.get("target"))
    return render_template("partials/command_fields.html", form=form)


@bp.get("/ui/args")
def args_fragment():
    """Fragment: the argument fields (and hazard confirmation) of one command."""
    with database().transaction() as session:
        form = forms.form_context(forms.target_choices(session),
                                  target_id=request.args.get("target"),
                                  command_name=request.args.get("command_name"))
    return render_template("partials/args.html", form=form)


@bp.post("/ui/telecommands")
@requires(OPERATE)
def submit_command():
    """Issue a telecommand from the form; on a refusal nothing is created and the form says why."""
    form = request.form
    target_id, command_name = form.get("target", ""), form.get("command_name", "")
    operator = current_identity().username
    with database().transaction() as session:
        choices = forms.target_choices(session)
    try:
        command, names = forms.issue_from_form(database(), choices, target_id, command_name,
                                               form, operator)
    except forms.Refused as refused:
        context = forms.form_context(choices, target_id=target_id, command_name=command_name,
                                     values=form.to_dict(), errors=refused.errors,
                                     error=refused.message)
        if fragments.is_htmx():
            return render_template("partials/send_form.html", form=context), 422
        return _render_index(context), 422
    if not fragments.is_htmx():
        response = redirect(url_for("pages.index"), 303)
    else:
        # The confirmation is deliberately not kept: each hazardous command is confirmed anew.
        values = {k: v for k, v in form.to_dict().items() if k != "confirm"}
        context = forms.form_context(choices, target_id=target_id, command_name=command_name,
                                     values=values, issued=command)
        html = render_template("partials/send_form.html", form=context)
        if form.get("status", "") in ("", Status.READY.value) and \
                _shown_target() in (None, command.target_id):
            # The new row shows at once, READY, in the same response; the queue-refresh the
            # header triggers then brings the whole table up to date.
            html += render_template("partials/new_row.html", c=command, names=names)
        response = Response(html, 201)
        response.headers["HX-Trigger"] = "queue-refresh"
    return response


def _render_index(form: dict[str, Any]) -> str:
    with database().transaction() as session:
        queue = fragments.queue_body(session, fragments.QueueFilter())
    return render_template("index.html", form=form, queue=queue, status=None,
                           statuses=list(Status))


# --- the live queue and cancelling ---------------------------------------------------------

@bp.get("/ui/queue")
def queue_fragment():
    """Fragment: the queue's table body, polled every second; 204 when nothing changed."""
    with database().transaction() as session:
        queue = fragments.queue_body(session, fragments.queue_filter(request.args))
    if request.args.get("since") == queue["version"]:
        return Response(status=204)
    return render_template("partials/queue_body.html", queue=queue)


@bp.post("/ui/telecommands/<command_id>/cancel")
@requires(OPERATE)
def cancel_command(command_id: str):
    """Cancel a READY command; a conflict (no longer READY) is shown, not hidden."""
    operator = current_identity().username
    refusal = None
    with database().transaction() as session:
        command_uuid = telecommands.parse_id(command_id)
        try:
            command = telecommands.cancel(session, command_uuid, operator=operator)
        except telecommands.NotCancellable as error:
            refusal = f"Cannot cancel {str(command_uuid)[:8]}: {error}."
            command = telecommands.get(session, command_uuid)
        status_code = 409 if refusal else 200
        if not fragments.is_htmx():
            if refusal:
                return render_template("message.html", title="Not cancelled", message=refusal,
                                       back=url_for("pages.detail", command_id=command.id)), 409
            return redirect(url_for("pages.index"), 303)
        notice = {"kind": "error" if refusal else "ok",
                  "text": refusal or f"Cancelled {command.command_name} {str(command.id)[:8]}."}
        if request.form.get("view") == "detail":
            html = render_template("partials/detail_panel.html",
                                   panel=fragments.detail_panel(session, command), notice=notice)
        else:
            html = render_template("partials/cancel_result.html", c=command,
                                   names=forms.target_names(session), notice=notice)
    response = Response(html, status_code)
    response.headers["HX-Trigger"] = "queue-refresh"
    return response


# --- one command in detail ----------------------------------------------------------------

@bp.get("/telecommands/<command_id>")
def detail(command_id: str):
    """One command: its arguments, current status and full history, live until final."""
    with database().transaction() as session:
        command = telecommands.get(session, telecommands.parse_id(command_id))
        return render_template("detail.html", panel=fragments.detail_panel(session, command))


@bp.get("/ui/telecommands/<command_id>")
def detail_fragment(command_id: str):
    """Fragment: the detail panel, polled until the command is final; 204 when unchanged."""
    with database().transaction() as session:
        command = telecommands.get(session, telecommands.parse_id(command_id))
        panel = fragments.detail_panel(session, command)
    if request.args.get("since") == panel["version"]:
        return Response(status=204)
    return render_template("partials/detail_panel.html", panel=panel)


def refusal(status: int, reason: str) -> Response:
    """The answer to a page request the guard refuses: not signed in goes to /login (htmx is
    told to go there too); a wrong role or a bad CSRF token is explained (to htmx in the
    page's notices, out of band, leaving the rest of the page as it was)."""
    if status == 401:
        if fragments.is_htmx():  # back to the page the fragment was for, not the fragment
            target = url_for("signin.login", next=_shown_page())
            return Response(status=401, headers={"HX-Redirect": target})
        return redirect(url_for("signin.login", next=request.full_path.rstrip("?")), 303)
    if fragments.is_htmx():  # the page stays; the reason shows in its notices
        html = render_template("partials/notice.html", notice={"kind": "error", "text": reason})
        return Response(html, status, headers={"HX-Reswap": "none"})
    html = render_template("message.html", title="Not allowed", message=reason,
                           back=url_for("pages.index"))
    return Response(html, status)


def _shown_page() -> str:
    """The path (and query) of the page an htmx request came from; /login checks it again."""
    try:
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
    except ValueError:  # e.g. "http://[" is no URL at all
        return "/"
    return (shown.path or "/") + (f"?{shown.query}" if shown.query else "")


def _shown_target() -> str | None:
    """The target the queue of the page an htmx request came from is filtered by (links set
    it, so the page's address says it; the status filter changes in place and is sent)."""
    query = urlsplit(_shown_page()).query
    return fragments.queue_filter(dict(parse_qsl(query))).target


# --- errors -------------------------------------------------------------------------------

@bp.errorhandler(telecommands.CommandNotFound)
def _not_found(error: telecommands.CommandNotFound):
    return render_template("message.html", title="Not found",
                           message=f"There is no telecommand with id {error}.",
                           back=url_for("pages.index")), 404
