"""What happens next on a case, and the workflows drawn: read from the definitions in workflows/ only.

`next_step` says the state in words, who acts next (roles and, where known, people's names) and by when;
`drawing` lays a workflow out as an SVG with the current state marked; /help/workflows shows all three.
"""
from __future__ import annotations


def register(app):
    from .views import bp
    app.register_blueprint(bp)

    @app.context_processor
    def _guide():
        from .drawing import workflow_svg
        from .next_step import next_step
        return {"next_step": next_step, "workflow_svg": workflow_svg}
