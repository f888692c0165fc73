"""Flask CLI commands (``flask --app app <command>``)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register every command group."""
    from cli.climbing import register as register_climbing
    from cli.run_tracker import run_tracker
    from cli.stream_pose import stream_pose
    from cli.tasks import tasks_group
    from cli.users import tokens_group, users_group

    app.cli.add_command(tasks_group)
    register_climbing(app)
    app.cli.add_command(stream_pose)
    app.cli.add_command(run_tracker)
    app.cli.add_command(users_group)
    app.cli.add_command(tokens_group)
