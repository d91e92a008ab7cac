"""Background tasks, run by ``community worker`` (huey).

Work that must not slow a request down — keeping the search index up to date, sending mail,
and calling webhooks later — is a task. A request enqueues it after its transaction committed;
a worker process runs it with an app context, retrying it when it fails.

The queue lives where ``TASKS_URL`` says:

- ``sqlite:///tasks.db`` (the default): a SQLite file in the instance folder, nothing to start;
  fine for one host.
- ``redis://host:6379/0``: Redis, shared by workers on several hosts.
- ``memory://``: inside the process (tests; tasks run when the test drains the queue).

Core and plugins declare tasks with :func:`task` and :func:`periodic_task` at import time and
enqueue them with :func:`enqueue`, or with :func:`enqueue_in` to run them later::

    from community.tasks import enqueue, enqueue_in, task

    @task(retries=5, retry_delay=10)
    def send_digest(user_id: int) -> None:
        ...

    enqueue(send_digest, user.id)
    enqueue_in(3600, send_digest, user.id)  # in an hour

Arguments must be plain values (ids, strings): the task runs in another process, later, and
reads what it needs from the database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

log = logging.getLogger(__name__)

EXTENSION = "community.tasks"

__all__ = ["crontab", "enqueue", "enqueue_in", "periodic_task", "task", "task_queue"]


@dataclass
class TaskSpec:
    func: Callable[..., Any]
    name: str
    retries: int = 0
    retry_delay: int = 0
    schedule: Any = None  # a huey crontab for periodic tasks


# Every task declared in this process, by name. Each app's queue registers them all, so the
# worker knows every task that a web process may enqueue.
_TASKS: dict[str, TaskSpec] = {}


def _task_name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def task(retries: int = 0, retry_delay: int = 0) -> Callable[[Callable[..., Any]], Any]:
    """Declare a background task. ``retries`` times more it runs again when it raises,
    ``retry_delay`` seconds later each time."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        _TASKS[_task_name(func)] = TaskSpec(func, _task_name(func), retries, retry_delay)
        return func

    return decorator


def periodic_task(schedule: Any, retries: int = 0) -> Callable[[Callable[..., Any]], Any]:
    """Declare a task the worker runs on a schedule, e.g. ``crontab(minute="*/5")``."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        spec = TaskSpec(func, _task_name(func), retries, 0, schedule=schedule)
        _TASKS[spec.name] = spec
        return func

    return decorator


class TaskQueue:
    """One app's huey instance, with every declared task registered to run in an app context."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url = app.config["TASKS_URL"]
        self.huey = _make_huey(self.url, app.instance_path)
        self._wrappers: dict[str, Any] = {}
        self.register_all()

    def register_all(self) -> None:
        """Register tasks declared since the last call (plugins import theirs later)."""
        for name, spec in list(_TASKS.items()):
            if name not in self._wrappers:
                self._wrappers[name] = self._register(spec)

    def _register(self, spec: TaskSpec) -> Any:
        app = self.app

        def run_in_app(*args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return spec.func(*args, **kwargs)

        run_in_app.__name__ = spec.func.__name__
        if spec.schedule is not None:
            return self.huey.periodic_task(spec.schedule, retries=spec.retries, name=spec.name)(
                run_in_app
            )
        return self.huey.task(retries=spec.retries, retry_delay=spec.retry_delay, name=spec.name)(
            run_in_app
        )

    def _wrapper(self, func: Callable[..., Any]) -> Any:
        name = _task_name(func)
        if name not in self._wrappers:
            self.register_all()
        if name not in self._wrappers:
            raise LookupError(f"{name} is not declared with @community.tasks.task")
        return self._wrappers[name]

    def enqueue(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._wrapper(func)(*args, **kwargs)

    def enqueue_in(
        self, delay_seconds: float, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        self._wrapper(func).schedule(args=args, kwargs=kwargs, delay=delay_seconds)

    def run_pending(self, limit: int = 10_000) -> int:
        """Run every task waiting in the queue and every scheduled task that is due, here and
        now, as a worker would (tests and the ``community worker --once`` command); tasks
        scheduled for later stay scheduled. Returns how many ran."""
        ran = 0
        while ran < limit:
            queued = self.huey.dequeue()
            if queued is None:
                # As the consumer's scheduler does: due tasks go back to the queue.
                due = self.huey.read_schedule()
                if not due:
                    break
                for scheduled in due:
                    self.huey.enqueue(scheduled)
                continue
            if self.huey.ready_to_run(queued):
                ran += 1
            self.huey.execute(queued)  # one that is not due goes back to the schedule
        return ran


def _make_huey(url: str, instance_path: str) -> Huey:
    parts = urlsplit(url)
    name = "community"
    if parts.scheme == "memory":
        return MemoryHuey(name, results=False)
    if parts.scheme == "sqlite":
        # sqlite:///tasks.db is relative to the instance folder; sqlite:////srv/q.db absolute.
        filename = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not os.path.isabs(filename):
            filename = os.path.join(instance_path, filename or "tasks.db")
        return SqliteHuey(name, filename=filename, results=False)
    if parts.scheme in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=url, results=False)
    raise ValueError(f"TASKS_URL {url!r}: use sqlite:///FILE, redis://HOST:PORT/DB or memory://")


def init_tasks(app: Flask) -> None:
    app.extensions[EXTENSION] = TaskQueue(app)


def task_queue(app: Flask | None = None) -> TaskQueue:
    return (app or current_app).extensions[EXTENSION]


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Queue ``func(*args, **kwargs)`` for the worker. Call it after the commit that made the
    work necessary: the worker may run it at once, and must see the committed rows."""
    task_queue().enqueue(func, *args, **kwargs)


def enqueue_in(delay_seconds: float, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Queue ``func(*args, **kwargs)`` to run ``delay_seconds`` from now, at the earliest (a
    worker looks at its schedule every second). Like :func:`enqueue`, call it after the commit."""
    task_queue().enqueue_in(delay_seconds, func, *args, **kwargs)
