"""Inventory commands: ``catalog import``, ``parse``, ``say``, ``stock``, ``count``, ``journal``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from device.cli.output import print_table
from device.settings import load_settings


def register(sub: Any) -> None:
    catalog = sub.add_parser("catalog", help="manage the item catalogue")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    imp = catalog_sub.add_parser("import", help="replace the catalogue from a CSV file")
    imp.add_argument("file", type=Path, help="CSV with header name,aliases,unit,location,par[,packs]")
    imp.set_defaults(func=cmd_catalog_import)
    show = catalog_sub.add_parser("show", help="list the catalogue")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_catalog_show)

    parse = sub.add_parser("parse", help="parse text into a command (no changes made)")
    parse.add_argument("text", nargs="*", help="the command; without it, one command per stdin line")
    parse.add_argument("--json", action="store_true", help="one JSON object per command")
    parse.set_defaults(func=cmd_parse)

    say = sub.add_parser("say", help="say a command as text: parse, confirm if needed, apply, reply")
    say.add_argument("text", nargs="+")
    say.add_argument("--json", action="store_true")
    say.set_defaults(func=cmd_say)

    stock = sub.add_parser("stock", help="show stock per item and location")
    stock.add_argument("--json", action="store_true")
    stock.set_defaults(func=cmd_stock)

    count = sub.add_parser(
        "count",
        help="record a stocktake: set each item's count from a CSV",
        description="Set stock from a CSV with the header item,quantity[,unit][,location] (a name or an alias; "
        "the item's unit and place when left out). Every row is checked first: one bad row and nothing is "
        "counted. Each row is journalled (and synced) as a set.",
    )
    count.add_argument("file", type=Path, help="the stocktake CSV")
    count.add_argument("--dry-run", action="store_true", help="check the file and show what it would set")
    count.set_defaults(func=cmd_count)

    journal = sub.add_parser("journal", help="show the journal of changes")
    journal.add_argument("--json", action="store_true")
    journal.add_argument("-n", "--limit", type=int, default=None, help="only the last N events")
    journal.set_defaults(func=cmd_journal)


def _open_store() -> Any:
    from device.inventory.store import Store

    return Store.from_settings(load_settings())


def cmd_catalog_import(args: argparse.Namespace) -> int:
    from device.inventory.catalog import load_csv

    catalogue = load_csv(args.file)
    with _open_store() as store:
        store.replace_catalogue(catalogue)
    print(f"Imported {len(catalogue.items)} items and {len(catalogue.locations)} locations from {args.file}.")
    return 0


def cmd_catalog_show(args: argparse.Namespace) -> int:
    with _open_store() as store:
        catalogue = store.catalogue()
    rows = [
        {
            "name": i.name,
            "aliases": list(i.aliases),
            "unit": i.unit,
            "location": i.location,
            "par": i.par,
            "packs": dict(i.packs),
        }
        for i in catalogue.items
    ]
    if args.json:
        print(json.dumps(rows))
    else:
        print_table(rows, ["name", "unit", "location", "par", "aliases", "packs"])
    return 0


def _words(argv: list[str]) -> str:
    """The command line's words as text; bytes that are not UTF-8 (a broken terminal) become U+FFFD."""
    return " ".join(argv).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def cmd_parse(args: argparse.Namespace) -> int:
    from device.intent.grammar import Grammar

    with _open_store() as store:
        grammar = Grammar(store.catalogue())
    lines = [_words(args.text)] if args.text else (line.rstrip("\n") for line in sys.stdin)
    out = sys.stdout
    for line in lines:
        if not args.text and not line.strip():
            continue
        command = grammar.parse(line)
        if args.json:
            out.write(json.dumps(command.to_json()) + "\n")
        else:
            fields = command.to_json()
            out.write(" ".join(f"{k}={v}" for k, v in fields.items() if v is not None) + "\n")
        out.flush()
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from device.dialogue import Dialogue, PolicyConfig
    from device.intent.grammar import Grammar
    from device.inventory.apply import Inventory

    settings = load_settings()
    text = _words(args.text)
    with _open_store() as store:
        command = Grammar(store.catalogue()).parse(text)
        inventory = Inventory(store, max_quantity=settings.max_quantity)
        dialogue = Dialogue(
            inventory, store, PolicyConfig.from_settings(settings), window_s=settings.confirm_window_s
        )
        turn = dialogue.handle(command, time.time())
    if args.json:
        print(json.dumps({"reply": turn.reply, "status": turn.status, "command": command.to_json()}))
    else:
        print(turn.reply)
    return 0


def cmd_stock(args: argparse.Namespace) -> int:
    with _open_store() as store:
        rows = [
            {"item": r.item, "location": r.location, "quantity": _num(r.quantity), "unit": r.unit}
            | ({"expires": r.expires.isoformat()} if r.expires else {})
            for r in store.stock()
        ]
    if args.json:
        print(json.dumps(rows))
    elif rows:
        print_table(rows, ["item", "location", "quantity", "unit", "expires"])
    else:
        print("No stock recorded yet.")
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    from device.inventory.apply import Inventory
    from device.inventory.stocktake import check, count, load_stocktake

    settings = load_settings()
    with _open_store() as store:
        stocktake = load_stocktake(args.file, store.catalogue())
        inventory = Inventory(store, max_quantity=settings.max_quantity)
        if args.dry_run:
            check(inventory, stocktake)
            for row in stocktake.rows:
                print(f"line {row.line}: {inventory.describe(row.command).rstrip('?')}")
            print(f"{len(stocktake.rows)} row(s) checked; nothing changed (--dry-run).")
            return 0
        for reply in count(inventory, stocktake):
            print(reply)
    print(f"Counted {len(stocktake.rows)} row(s) from {args.file}.")
    return 0


def cmd_journal(args: argparse.Namespace) -> int:
    with _open_store() as store:
        events = store.journal()
    if args.limit is not None:
        events = events[-args.limit :] if args.limit > 0 else []
    rows = [
        {
            "id": e.id,
            "at": e.at,
            "action": e.action,
            "item": e.item,
            "quantity": _num(e.quantity),
            "unit": e.unit,
            "location": e.location,
            "to_location": e.to_location,
            "transcript": e.transcript,
            "resolver": e.resolver,
            "confirmation": e.confirmation,
            "outcome": e.outcome,
            "reverses": e.reverses,
            "synced": e.synced,
        }
        for e in events
    ]
    if args.json:
        print(json.dumps(rows))
    elif rows:
        print_table(rows, ["at", "action", "item", "quantity", "unit", "location", "outcome", "transcript"])
    else:
        print("The journal is empty.")
    return 0


def _num(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 3)
