"""The admin's plugin pages, and plugins' static files."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.extensions import db
from community.permissions import require
from community.plugins import audit, services
from community.plugins.host import PluginInfo, current_host
from community.plugins.migrations import migration_status
from community.plugins.settings import plugin_settings, save_plugin_settings, settings_form
from community.topics.forms import ActionForm
from community.web.limits import write_limit

admin_bp = Blueprint("plugins_admin", __name__, url_prefix="/admin/plugins")
bp = Blueprint("plugins", __name__, url_prefix="/plugins")


@admin_bp.before_request
@login_required
def _admins_only():
    require("admin.access")


def _plugin_or_404(name: str) -> PluginInfo:
    info = current_host().plugins.get(name)
    if info is None:
        abort(404)
    return info


def describe(info: PluginInfo) -> dict[str, Any]:
    """What a plugin adds, as the admin page shows it."""
    host = current_host()
    hooks = [name for name in _hooks_of(info.name) if name != "community_plugin_settings"]
    routes = sorted(
        str(rule)
        for rule in current_app.url_map.iter_rules()
        if host.endpoint_owner(rule.endpoint) == info.name
    )
    failure = services.last_failure(info.name)
    return {
        "info": info,
        "state": services.plugin_state(info, failure),
        "enabled": host.is_enabled(info.name),
        "failure": failure,
        "hooks": hooks,
        "routes": routes,
        "slots": sorted(host.slots_filled.get(info.name, ())),
        "settings": info.settings,
    }


def _hooks_of(name: str) -> list[str]:
    """The hooks a plugin implements."""
    pm = current_host().pm
    plugin = pm.get_plugin(name)
    if plugin is None:
        return []
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])


@admin_bp.route("/")
def index():
    plugins = [describe(info) for info in current_host().listed()]
    return render_template("admin/plugins.html", plugins=plugins, action_form=ActionForm())


@admin_bp.route("/<name>", methods=["GET", "POST"])
@write_limit
def detail(name: str):
    info = _plugin_or_404(name)
    form = None
    if info.settings:
        form = settings_form(info.settings, plugin_settings(name))
        if form.validate_on_submit():
            values = {spec.key: form[spec.key].data for spec in info.settings}
            before = dict(plugin_settings(name))
            errors = save_plugin_settings(name, values)
            if not errors:
                after = dict(plugin_settings(name))
                changed = sorted(k for k in after if after[k] != before.get(k))
                if changed:
                    audit(
                        current_user,
                        "plugin.settings",
                        name,
                        before={k: before.get(k) for k in changed},
                        after={k: after[k] for k in changed},
                    )
                flash(_("The settings of %(name)s are saved.", name=name), "success")
                return redirect(url_for("plugins_admin.detail", name=name))
            for key, message in errors.items():
                form[key].errors = [*form[key].errors, message]
    elif ActionForm().is_submitted():
        abort(405)
    current, head = (None, None)
    if info.load_error is None:
        current, head = migration_status(info)
    status = 400 if form is not None and form.errors else 200
    return render_template(
        "admin/plugin.html",
        plugin=describe(info),
        form=form,
        action_form=ActionForm(),
        migration={"current": current, "head": head},
    ), status


@admin_bp.route("/<name>/<any(enable, disable, clear):action>", methods=["POST"])
@write_limit
def change(name: str, action: str):
    info = _plugin_or_404(name)
    if not ActionForm().validate_on_submit():
        abort(400)
    if action == "enable":
        if info.load_error is not None:
            flash(_("%(name)s cannot be loaded, so it cannot be enabled.", name=name), "error")
            return redirect(url_for("plugins_admin.detail", name=name))
        try:
            services.enable_plugin(name)
        except Exception as exc:
            db.session.rollback()
            current_app.logger.exception("enabling plugin %s failed", name)
            flash(
                _("%(name)s could not be enabled: %(error)s", name=name, error=str(exc)[:300]),
                "error",
            )
            return redirect(url_for("plugins_admin.detail", name=name))
        flash(_("%(name)s is enabled.", name=name), "success")
        audit(
            current_user, "plugin.enable", name, before={"enabled": False}, after={"enabled": True}
        )
    elif action == "disable":
        # Announced first: an audit-log plugin that is being disabled still records it.
        audit(
            current_user, "plugin.disable", name, before={"enabled": True}, after={"enabled": False}
        )
        services.disable_plugin(name)
        flash(_("%(name)s is disabled.", name=name), "info")
    else:
        services.clear_failure(name)
        flash(_("The error of %(name)s is cleared.", name=name), "info")
    return redirect(url_for("plugins_admin.index"))


@bp.route("/<name>/static/<path:filename>")
def static(name: str, filename: str):
    host = current_host()
    info = host.plugins.get(name)
    if info is None or info.static_folder is None or not host.is_enabled(name):
        abort(404)
    return send_from_directory(info.static_folder, filename, max_age=3600)
