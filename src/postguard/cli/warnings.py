"""``postguard warnings …``: scam warnings, their feed and webhooks."""

from __future__ import annotations

from pathlib import Path

import typer

from postguard.cli.common import open_platform, print_json

warnings_app = typer.Typer(no_args_is_help=True, help="Scam warnings, their feed and webhooks.")


@warnings_app.command("publish")
def warnings_publish(
    category: str = typer.Option(..., "--category", help="courier-impersonation, fake-fee, otp-theft, ..."),
    title_vi: str = typer.Option(..., "--title-vi", help="Title in Vietnamese"),
    title_en: str = typer.Option(..., "--title-en", help="Title in English"),
    body_vi: Path = typer.Option(..., "--body-vi", exists=True, dir_okay=False, help="Text file: body in Vietnamese"),
    body_en: Path = typer.Option(..., "--body-en", exists=True, dir_okay=False, help="Text file: body in English"),
    author: str = typer.Option(..., "--author", help="The publishing analyst"),
) -> None:
    """Publish a warning: it appears on /canh-bao and in the Atom feed, and is queued for webhooks."""
    w = open_platform().warnings.publish(category=category, title_vi=title_vi, title_en=title_en,
                                     body_vi=body_vi.read_text(encoding="utf-8"),
                                     body_en=body_en.read_text(encoding="utf-8"), author=author)
    typer.echo(f"published warning {w.id}")


@warnings_app.command("deliver")
def warnings_deliver(
    loop: bool = typer.Option(False, "--loop", help="Keep delivering every --interval seconds"),
    interval: float = typer.Option(5.0, "--interval", min=0.5, help="Seconds between passes with --loop"),
) -> None:
    """Send due webhook deliveries once (or keep going with --loop); failures retry with backoff."""
    import time

    p = open_platform()
    while True:
        out = p.webhooks.deliver_due()
        typer.echo(f"delivered {out['delivered']}  retrying {out['retrying']}  failed {out['failed']}")
        if not loop:
            return
        time.sleep(interval)


@warnings_app.command("subscribe")
def warnings_subscribe(
    url: str = typer.Argument(..., help="The subscriber's https endpoint"),
    label: str = typer.Option("", help="Who it is"),
) -> None:
    """Add a webhook subscriber; its signing secret is printed once."""
    sub = open_platform().webhooks.subscribe(url=url, label=label)
    typer.echo(f"subscription {sub.id}")
    typer.echo(f"signing secret (shown once, give it to the subscriber): {sub.secret}")


@warnings_app.command("unsubscribe")
def warnings_unsubscribe(subscription: str = typer.Argument(..., help="Subscription id")) -> None:
    """Stop delivering to a subscriber (pending deliveries fail)."""
    open_platform().webhooks.unsubscribe(subscription)
    typer.echo(f"disabled {subscription}")


@warnings_app.command("subscribers")
def warnings_subscribers() -> None:
    """List webhook subscribers."""
    print_json(open_platform().webhooks.list())
