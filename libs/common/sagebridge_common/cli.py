"""`sagebridge` operator commands (topics today; replay and DLQ re-drive build on the same app)."""
from __future__ import annotations

import json
from contextlib import contextmanager
import sys
from datetime import datetime, timezone

import click
from confluent_kafka import KafkaException

from . import dlq_browse
from . import topics as topic_catalogue
from .kafka_clients import consumer_config, make_admin, make_producer
from .redrive import redrive
from .topic_reader import ReadTimeout
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
        try:
            report = redrive(conf, producer, dlq_topic, max_replays=max_replays, dry_run=dry_run, limit=limit,
                             reason=reason, progress=lambda n: bar.advance(task, n))
        except (KafkaException, ReadTimeout) as e:   # nothing is lost: progress is saved only after acks
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
    click.echo(json.dumps(report.as_dict(), indent=2))


LIST_COLUMNS = ("partition", "offset", "key", "reason", "message", "topic", "first_failure", "attempts",
                "replays", "waiting", "trace_url")
MESSAGE_WIDTH = 80


def _browse_conf(settings: Settings) -> dict:
    return consumer_config(settings, group_id="sagebridge.dlq-browse")   # never commits: no group is made


def _cell(row: dict, column: str) -> str:
    value = row[column]
    if column == "message":
        value = value if len(value) <= MESSAGE_WIDTH else value[:MESSAGE_WIDTH - 1] + "…"
        return value.replace("\t", " ").replace("\n", " ")
    if column == "waiting":
        return {True: "yes", False: "no (re-sent)", None: "?"}[value]
    return "" if value is None else str(value)


def _is_terminal() -> bool:
    return sys.stdout.isatty()


@dlq.command("list")
@click.argument("dlq_topic")
@click.option("--reason", default=None, help="Only records dead-lettered for this reason.")
@click.option("--limit", type=int, default=None, help="At most this many records.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for machines.")
def dlq_list_cmd(dlq_topic: str, reason: str | None, limit: int | None, as_json: bool) -> None:
    """One line per record of DLQ_TOPIC, from the beginning, without joining or committing to any
    group. `waiting` says whether `dlq redrive` has yet to send the record back."""
    with _browse_errors():
        settings = Settings.from_env()
        rows = dlq_browse.list_records(_browse_conf(settings), dlq_topic, reason=reason, limit=limit,
                                       redrive_group=f"sagebridge.redrive.{dlq_topic}",
                                       trace_url_template=settings.trace_url_template)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif _is_terminal():
        from rich.console import Console
        from rich.table import Table

        table = Table(*LIST_COLUMNS, title=f"{dlq_topic}: {len(rows)} records")
        for row in rows:
            table.add_row(*(_cell(row, c) for c in LIST_COLUMNS))
        Console().print(table)
    else:
        click.echo("\t".join(LIST_COLUMNS))
        for row in rows:
            click.echo("\t".join(_cell(row, c) for c in LIST_COLUMNS))


@contextmanager
def _browse_errors():
    """A missing topic, partition or record exits 2; a broker that does not answer in time exits 1."""
    try:
        yield
    except dlq_browse.NotFound as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except ReadTimeout as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)


@dlq.command("show")
@click.argument("dlq_topic")
@click.option("--partition", type=int, required=True)
@click.option("--offset", type=int, required=True)
def dlq_show_cmd(dlq_topic: str, partition: int, offset: int) -> None:
    """Everything about one record of DLQ_TOPIC as JSON: error context, headers, and the payload
    decoded with the configured serde (raw text or hex, with the reason, when it cannot be)."""
    from .avro_serde import serde_from_settings

    settings = Settings.from_env()
    with _browse_errors():
        record = dlq_browse.show_record(_browse_conf(settings), dlq_topic, partition, offset,
                                        serde_from_settings(settings), trace_url_template=settings.trace_url_template)
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))


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


from .reconcile_cli import reconcile_cmd  # noqa: E402

main.add_command(reconcile_cmd)
