"""Download: catalogue and stock changes made elsewhere reach the unit, through a cursor that skips nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg

from cloud_sync.download import CURSOR, build_catalogue, merge
from cloud_sync.worker import sync_now
from device.inventory.catalog import Catalogue
from tests.cloud_sync.helpers import Cloud, local_stock, record_adds

MENU = [
    {
        "name": "oat milk",
        "unit": "carton",
        "aliases": ["oatly"],
        "location": "walk-in",
        "par": 24,
        "packs": {"case": 12},
    },
    {"name": "saffron buns", "unit": "bun", "aliases": ["lussekatter"], "location": "bakery rack", "par": 10},
]


def test_a_new_catalogue_reaches_the_unit_and_its_listeners(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    heard: list[Catalogue] = []
    assert store.catalogue().get("saffron buns") is None  # the demo catalogue
    cloud.put_catalogue("cafe-1", MENU)
    report = sync_now(store, settings, on_catalogue=heard.append)
    assert report["download"]["catalogue"] is True
    assert [c.names for c in heard] == [("oat milk", "saffron buns")]
    bread = store.catalogue()["saffron buns"]
    assert bread.aliases == ("lussekatter",) and bread.location == "bakery rack" and bread.par == 10
    assert dict(store.catalogue()["oat milk"].packs) == {"case": 12.0}
    assert "bakery rack" in store.catalogue().locations
    sync_now(store, settings, on_catalogue=heard.append)
    assert len(heard) == 1  # nothing changed, nobody told

    cloud.sql("update items set deleted = true where name = 'saffron buns'")
    cloud.sql("update items set aliases = '{oatly,oaty}' where name = 'oat milk'")
    sync_now(store, settings, on_catalogue=heard.append)
    assert heard[-1].names == ("oat milk",) and store.catalogue()["oat milk"].aliases == ("oatly", "oaty")


def test_a_site_without_a_cloud_catalogue_keeps_the_units_own(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    before = store.catalogue()
    cloud.put_catalogue("cafe-2", MENU)  # another site's
    sync_now(store, settings)
    assert store.catalogue() == before


def test_stock_changed_by_another_unit_reaches_this_one(cloud: Cloud, tmp_path: Path) -> None:
    here, here_settings = cloud.provisioned_store(tmp_path / "here")
    there, there_settings = cloud.provisioned_store(tmp_path / "there")
    record_adds(here, 9)
    sync_now(here, here_settings)
    record_adds(there, 7)
    sync_now(there, there_settings)
    record_adds(here, 5)  # not uploaded yet: local = server + these
    unsynced: dict[tuple[str, str], float] = {}
    for event in here.unsynced(100):
        for d in event.deltas:
            unsynced[(d.item, d.location)] = unsynced.get((d.item, d.location), 0.0) + d.quantity
    before_upload = cloud.stock("cafe-1")
    # a download without uploading: run the download path by hand with the queue paused
    from cloud_sync.download import apply_changes
    from cloud_sync.identity import Identity, credentials_path

    remote = cloud.remote()
    remote.use_token(Identity(credentials_path(tmp_path / "here"), remote).fresh().access_token)
    apply_changes(here, remote.changes_since(here.get_state(CURSOR)))
    remote.close()
    expected = {
        k: before_upload.get(k, 0.0) + unsynced.get(k, 0.0) for k in before_upload.keys() | unsynced.keys()
    }
    assert local_stock(here) == {k: v for k, v in expected.items() if abs(v) > 1e-9}
    sync_now(here, here_settings)
    sync_now(there, there_settings)
    assert local_stock(here) == local_stock(there) == cloud.stock("cafe-1")
    # lots keep their expiry dates through the rebase
    assert {(lot.item, lot.expires) for lot in here.lots("eggs")} == {
        (lot.item, lot.expires) for lot in there.lots("eggs")
    }


def test_the_cursor_does_not_skip_rows_committed_out_of_order(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    cloud.put_catalogue("cafe-1", MENU)
    sync_now(store, settings)
    slow = psycopg.connect(cloud.server.conninfo(cloud.dbname))
    # the slow writer starts first (older transaction id) and commits last
    slow.execute("update items set par = 99 where name = 'oat milk'")
    cloud.sql("update items set par = 11 where name = 'saffron buns'")
    sync_now(store, settings)
    assert store.catalogue()["saffron buns"].par == 11 and store.catalogue()["oat milk"].par == 24
    slow.commit()
    slow.close()
    sync_now(store, settings)
    assert store.catalogue()["oat milk"].par == 99  # a timestamp or sequence cursor would have skipped it


def test_concurrent_writers_never_lose_a_row_to_the_cursor(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    cloud.put_catalogue("cafe-1", [{"name": "item 0", "unit": "each"}])
    names = [f"item {n}" for n in range(1, 41)]

    def writer(chunk: list[str]) -> None:
        with psycopg.connect(cloud.server.conninfo(cloud.dbname), autocommit=True) as conn:
            for name in chunk:
                with conn.transaction():
                    conn.execute(
                        "insert into items (site_id, name, unit) values ('cafe-1', %s, 'each')", (name,)
                    )
                    conn.execute("select pg_sleep(0.005 * (random() * 3))")

    threads = [threading.Thread(target=writer, args=(names[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        sync_now(store, settings)
    for t in threads:
        t.join()
    sync_now(store, settings)
    assert set(store.catalogue().names) == {"item 0", *names}


def test_merge_and_build_are_idempotent_and_skip_bad_rows() -> None:
    mirror: dict[str, dict] = {}
    rows = [{"name": "a", "unit": "each", "position": 1}, {"name": "b", "unit": "kg", "position": 0}]
    assert merge(mirror, rows, lambda r: r["name"]) is True
    assert merge(mirror, rows, lambda r: r["name"]) is False
    assert merge(mirror, [{"name": "a", "deleted": True}], lambda r: r["name"]) is True and list(mirror) == [
        "b"
    ]
    built = build_catalogue(
        [*rows, {"name": "bad", "unit": "each", "packs": {"case": "many"}}], [{"name": "shelf"}]
    )
    assert built.names == ("b", "a") and built.locations == ("shelf",)
