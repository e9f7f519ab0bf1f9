"""`sagebridge` operator commands (topics today; replay and DLQ re-drive build on the same app)."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

import click

from . import topics as topic_catalogue
from .kafka_clients import consumer_config, make_admin, make_producer
from .redrive import redrive
from . import replay as replays
from .settings import Settings


@click.group()
def main() -> None:
    """Sagebridge operator commands. Connection settings come from the environment (see README)."""


@main.group()
def topics() -> None:
    """The topic catalogue."""


@topics.command("apply")
@click.option("--dry-run", is_flag=True, help="Report what would change, change nothing.")
@click.option("--partitions", type=int, default=None, help="Override partition counts (dev brokers).")
@click.option("--replication-factor", type=int, default=1, show_default=True)
def apply_cmd(dry_run: bool, partitions: int | None, replication_factor: int) -> None:
    """Create missing topics and DLQs, align configs. Safe to run any number of times."""
    admin = make_admin(Settings.from_env())
    report = topic_catalogue.apply(admin, topic_catalogue.catalogue(partitions),
                                   replication_factor=replication_factor, dry_run=dry_run)
    click.echo(json.dumps({"dry_run": dry_run, **report.__dict__}, indent=2))
    if report.partition_mismatch:
        sys.exit(3)


@topics.command("list")
@click.option("--partitions", type=int, default=None)
def list_cmd(partitions: int | None) -> None:
    """Print the catalogue."""
    for spec in topic_catalogue.catalogue(partitions):
        click.echo(f"{spec.name}\t{spec.partitions}\t{json.dumps(spec.configs)}")


@main.group()
def dlq() -> None:
    """Dead-letter queues."""


@dlq.command("redrive")
@click.argument("dlq_topic")
@click.option("--dry-run", is_flag=True, help="Count what would be re-sent; send and commit nothing.")
@click.option("--max-replays", type=int, default=3, show_default=True,
              help="Records already replayed this often stay in the DLQ.")
@click.option("--reason", default=None, help="Only re-send records dead-lettered for this reason.")
@click.option("--limit", type=int, default=None, help="Examine at most this many records.")
def redrive_cmd(dlq_topic: str, dry_run: bool, max_replays: int, reason: str | None, limit: int | None) -> None:
    """Send DLQ_TOPIC's records back to the topics they failed on (after the cause was fixed).
    Records that are not re-sent (other reason, over the replay limit) stay for a later run; what
    was re-sent is remembered (group `sagebridge.redrive.<DLQ_TOPIC>` plus the re-drive state
    topic), so runs resume and never send a record twice."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    settings = Settings.from_env()
    conf = consumer_config(settings, group_id=f"sagebridge.redrive.{dlq_topic}")
    if not dry_run:   # the state topic is in the catalogue; make sure it exists before saving to it
        state_spec = [s for s in topic_catalogue.catalogue() if s.name == topic_catalogue.REDRIVE_STATE]
        topic_catalogue.apply(make_admin(settings), state_spec)
    producer = make_producer(settings)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} examined"),
                  transient=True) as bar:
        task = bar.add_task(f"re-driving {dlq_topic}" + (" (dry run)" if dry_run else ""), total=None)
        report = redrive(conf, producer, dlq_topic, max_replays=max_replays, dry_run=dry_run, limit=limit,
                         reason=reason, progress=lambda n: bar.advance(task, n))
    click.echo(json.dumps(report.as_dict(), indent=2))


@main.command("replay")
@click.argument("topic")
@click.option("--group", required=True, help="The consumer group to rewind (e.g. sagebridge.erp-writer.xcart-sage300).")
@click.option("--from", "since", required=True, help="ISO-8601 time; a time without offset is UTC.")
@click.option("--dry-run", is_flag=True, help="Show the offsets that would be set; change nothing.")
def replay_cmd(topic: str, group: str, since: str, dry_run: bool) -> None:
    """Re-process TOPIC from a point in time for GROUP (stop the group's service first)."""
    when = datetime.fromisoformat(since.replace("Z", "+00:00"))
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    settings = Settings.from_env()
    conf = consumer_config(settings)
    for key in ("group.id", "statistics.interval.ms"):
        conf.pop(key, None)
    try:
        moves = replays.plan(conf, topic, group, when)
        if not dry_run:
            replays.apply(make_admin(settings), topic, group, moves)
    except replays.ReplayError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    click.echo(json.dumps({"dry_run": dry_run, "topic": topic, "group": group, "from": when.isoformat(),
                           "partitions": [{"partition": m.partition, "committed": m.committed, "new": m.target,
                                           "records_again": m.records_again} for m in moves]}, indent=2))
