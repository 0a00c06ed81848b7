"""The ``config`` command: the effective settings, and where each value came from."""

from __future__ import annotations

import os
from typing import Optional

import click

from ..config.settings import describe, load_settings
from .args import StrictCommand
from .common import CONFIG_OPTION


@click.command("config", cls=StrictCommand)
@CONFIG_OPTION
@click.pass_context
def config_cmd(ctx: click.Context, config_file: Optional[str]) -> None:
    """Print the effective configuration and where each value came from."""
    click.echo(describe(load_settings(config_file, start=os.getcwd())), nl=False)
    ctx.exit(0)
