"""The rep's own pages: tracked mail, one message's hits, and the activity history with its
live updates. Every member of the account uses them: a rep sees their own mail, an admin the
account's. Server-rendered, session login; the page scripts live in /static (no inline script)."""

from flask import Blueprint

from server.common.inputs import refuse_nul

bp = Blueprint("workspace", __name__)
bp.before_request(refuse_nul)

from server.workspace import views  # noqa: E402,F401  (registers the routes on bp)
