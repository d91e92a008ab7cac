"""Themes: a folder under ``THEMES_PATH`` with ``templates/`` and ``static/``.

The active theme (a site setting) overrides any template or static file of the default theme
by path; whatever it does not provide falls back to ``default``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory
from jinja2 import BaseLoader, FileSystemLoader, TemplateNotFound

DEFAULT_THEME = "default"
EXTENSION_KEY = "community.theme"

bp = Blueprint("theme", __name__)


def available_themes(app: Flask) -> list[str]:
    root = Path(app.config["THEMES_PATH"])
    return sorted(p.name for p in root.iterdir() if (p / "templates").is_dir())


class ThemeLoader(BaseLoader):
    """Looks a template up in the active theme, then in the default theme, then in the
    ``templates/`` folder of the enabled plugin it is named after (``<plugin>/page.html``),
    then in the app's other loaders (blueprints). A theme overrides a plugin's template by
    shipping the same path."""

    def __init__(self, app: Flask, fallback: BaseLoader | None) -> None:
        self.app = app
        self.fallback = fallback
        self.active = DEFAULT_THEME
        self._loaders: dict[str, FileSystemLoader] = {}

    def _loader(self, theme: str) -> FileSystemLoader:
        if theme not in self._loaders:
            path = Path(self.app.config["THEMES_PATH"], theme, "templates")
            self._loaders[theme] = FileSystemLoader(str(path))
        return self._loaders[theme]

    def get_source(self, environment, template):
        names = [self.active] if self.active == DEFAULT_THEME else [self.active, DEFAULT_THEME]
        for theme in names:
            try:
                return self._loader(theme).get_source(environment, template)
            except TemplateNotFound:
                continue
        plugin_folder = self._plugin_folder(template)
        if plugin_folder is not None:
            try:
                return self._folder_loader(plugin_folder).get_source(environment, template)
            except TemplateNotFound:
                pass
        if self.fallback is not None:
            return self.fallback.get_source(environment, template)
        raise TemplateNotFound(template)

    def _plugin_folder(self, template: str) -> Path | None:
        from community.plugins.host import EXTENSION_KEY as PLUGINS_KEY

        host = self.app.extensions.get(PLUGINS_KEY)
        name = template.split("/", 1)[0]
        if host is None or name not in host.plugins or not host.is_enabled(name):
            return None
        return host.plugins[name].template_folder

    def _folder_loader(self, folder: Path) -> FileSystemLoader:
        key = f"folder:{folder}"
        if key not in self._loaders:
            self._loaders[key] = FileSystemLoader(str(folder))
        return self._loaders[key]

    def list_templates(self):
        found = set(self._loader(DEFAULT_THEME).list_templates())
        found.update(self._loader(self.active).list_templates())
        return sorted(found)


def init_themes(app: Flask) -> None:
    loader = ThemeLoader(app, app.jinja_env.loader)
    app.jinja_env.loader = loader
    app.extensions[EXTENSION_KEY] = loader
    app.register_blueprint(bp)


def activate_theme(name: str) -> None:
    """Switch this process to ``name`` if the setting changed (cheap when it did not)."""
    loader: ThemeLoader = current_app.extensions[EXTENSION_KEY]
    if loader.active != name:
        loader.active = name
        if current_app.jinja_env.cache is not None:
            current_app.jinja_env.cache.clear()


@bp.route("/theme/<path:filename>")
def static(filename: str):
    loader: ThemeLoader = current_app.extensions[EXTENSION_KEY]
    root = Path(current_app.config["THEMES_PATH"])
    for theme in dict.fromkeys([loader.active, DEFAULT_THEME]):
        folder = root / theme / "static"
        if (folder / filename).is_file():
            return send_from_directory(folder, filename, max_age=3600)
    abort(404)
