"""The commands page's panel of approvals and controls: the commands waiting for the signed-in
user's approval (sent by someone else) with Approve and Reject, and who holds control of what,
with Take and Release. htmx polls the panel; its buttons post with the session's CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from mission_control import approval, authority
from mission_control.auth import role_allows
from mission_control.authweb import current_identity, requires
from mission_control.models import Target
from mission_control.web import ApiError

from . import approval_api, control_api, forms
from .fragments import is_htmx, version

bp = Blueprint("approval_pages", __name__)
bp.before_request(forms.refuse_cross_site_posts)


def database():
    return current_app.extensions["database"]


def _body() -> str:
    """The panel's content for the signed-in user."""
    identity = current_identity()
    with database().transaction() as session:
        waiting = approval.waiting_for(session, identity.username)
        holds = authority.holds(session)
        names = forms.target_names(session)
        targets = session.execute(select(Target.id, Target.name).where(
            Target.removed_at.is_(None), Target.kind != "module").order_by(Target.name)).all()
        return render_template(
            "partials/approval_rows.html", waiting=waiting, holds=holds, names=names,
            targets=targets, me=identity.username, is_admin=role_allows(identity.role, "admin"))


def panel(body: str | None = None) -> Markup:
    """The whole panel, carrying the version of its content that its polls send back."""
    body = _body() if body is None else body
    return Markup(render_template("partials/approval_panel.html", body=Markup(body),
                                  version=version(body)))


@bp.app_context_processor
def _panel() -> dict:
    """``approval_panel()`` for the commands page (rendered only where a template calls it)."""
    return {"approval_panel": panel}


@bp.get("/ui/approvals")
def approvals_fragment():
    """Fragment: the approvals and controls panel, polled; 204 when nothing changed."""
    body = _body()
    if request.args.get("since") == version(body):
        return Response(status=204)
    return Response(panel(body))


def _act(action, done: str) -> Response:
    """Run a page action; its outcome (or the reason it was refused) shows as a notice."""
    try:
        action()
        notice, status = {"kind": "ok", "text": done}, 200
    except (approval.NotAwaitingApproval, approval.SelfApproval, authority.ControlledByOther,
            authority.NotHolder, authority.NotControlled) as refused:
        notice, status = {"kind": "error", "text": f"Refused: {refused}."}, 409
    except (approval.UnknownCommand, control_api.UnknownTarget) as missing:
        notice, status = {"kind": "error", "text": f"Not found: {missing}."}, 404
    except ApiError as error:
        notice, status = {"kind": "error", "text": error.message}, error.status
    if not is_htmx():  # a plain form post (no script): back to the page, or why not
        if status == 200:
            return redirect(url_for("pages.index"), 303)
        return Response(render_template("message.html", title="Refused", message=notice["text"],
                                        back=url_for("pages.index")), status)
    html = panel() + Markup(render_template("partials/notice.html", notice=notice))
    response = Response(html, status)
    response.headers["HX-Trigger"] = "queue-refresh"
    return response


@bp.post("/ui/telecommands/<command_id>/approve")
@requires("operator")
def approve(command_id: str):
    """Approve a command waiting for the signed-in user's approval."""
    return _act(lambda: approval_api.decide(command_id, approve=True),
                f"Approved {command_id[:8]}.")


@bp.post("/ui/telecommands/<command_id>/reject")
@requires("operator")
def reject(command_id: str):
    """Reject a command waiting for approval, with the reason typed in the form."""
    reason = (request.form.get("reason") or "").strip()[:500] or "rejected on the page"
    return _act(lambda: approval_api.decide(command_id, approve=False, reason=reason),
                f"Rejected {command_id[:8]}.")


@bp.post("/ui/controls")
@requires("operator")
def take_control():
    """Take (or renew) control of the chosen target."""
    target_id = request.form.get("target", "")
    return _act(lambda: control_api.take(target_id, None), f"You control {target_id[:64]}.")


@bp.post("/ui/controls/<target_id>/release")
@requires("operator")
def release_control(target_id: str):
    """Release one's control (an admin: break another's)."""
    return _act(lambda: control_api.release(target_id), f"Released {target_id[:64]}.")
