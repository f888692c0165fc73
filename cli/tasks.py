"""``flask tasks``: look at and manage jobs from a terminal."""
from __future__ import annotations

import json

import click

from models.db import db
from models.tasks import STATES, TaskRecord


@click.group("tasks")
def tasks_group() -> None:
    """Inspect and manage jobs."""


@tasks_group.command("list")
@click.option("--state", type=click.Choice(STATES), help="Only tasks in this state.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def list_tasks(state: str | None, limit: int) -> None:
    """Show the newest tasks."""
    query = TaskRecord.select().order_by(TaskRecord.created_at.desc()).limit(limit)
    if state:
        query = query.where(TaskRecord.state == state)
    with db.connection_context():
        for t in query:
            click.echo(f"{t.task_id}  {t.state:<9} {t.progress:5.1f}%  {t.actor:<24} {t.status}")


@tasks_group.command("show")
@click.argument("task_id")
def show(task_id: str) -> None:
    """Print one task's state as JSON."""
    from actors import ledger
    from models.task_state import TaskNotFound

    try:
        click.echo(json.dumps(ledger.get(task_id), indent=2))
    except TaskNotFound:
        raise click.ClickException(f"no task with id {task_id!r}")


@tasks_group.command("cancel")
@click.argument("task_id")
def cancel(task_id: str) -> None:
    """Cancel a queued or running task."""
    from actors import ledger
    from models.task_state import TaskAlreadyFinished, TaskNotFound

    try:
        state = ledger.cancel(task_id)
    except TaskNotFound:
        raise click.ClickException(f"no task with id {task_id!r}")
    except TaskAlreadyFinished as exc:
        raise click.ClickException(f"task already ended ({exc.state['state']})")
    click.echo(f"{task_id}: {state['state']} — {state['status']}")
