"""`sagebridge` operator commands (topics today; replay and DLQ re-drive build on the same app)."""
from __future__ import annotations

import json
import sys

import click

from . import topics as topic_catalogue
from .kafka_clients import make_admin
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
