"""HTML the plugin adds to core's pages (template slots)."""

from __future__ import annotations

from markupsafe import Markup

from community.plugins import plugin_static_url


def render(slot, context):
    from community_moderation import web_queue, web_tools

    if slot == "head":
        link = Markup('<link rel="stylesheet" href="%s">')
        return Markup("\n").join(
            link % plugin_static_url("moderation", name) for name in ("queue.css", "tools.css")
        )
    # Both modules return HTML rendered from their own (autoescaped) templates.
    parts = [
        Markup(part)  # noqa: S704 - rendered by render_template
        for part in (web_queue.slot(slot, context), web_tools.slot(slot, context))
        if part
    ]
    return Markup("\n").join(parts) if parts else None
