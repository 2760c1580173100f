"""All mock state, in one TinyDB: sessions, the one lock, persistence and snapshots.

Every session (the ``X-Mock-Session`` header; ``default`` without it) owns its own tables, named
``<session>/<table>``, so parallel test jobs never see each other's records. A session is seeded on first use.

TinyDB is not thread-safe (a read-modify-write of a whole table per operation), so every call into it goes
through :attr:`Store.lock`. Two of TinyDB's extension points keep the cost of a write independent of how much
is stored:

* :class:`KeyedTable` keys documents by the record's own id (a dict lookup instead of a scan), changes the
  table in place instead of rebuilding it on every write, notes which documents a write touched, and keeps
  secondary indexes (e.g. invites by parent) up to date from those notes.
* :class:`JournalStorage` (with ``--db PATH``) appends each write's touched documents to ``PATH.journal`` as
  one JSON line and fsyncs it before the write is acknowledged: a client that got a 2xx finds its write after
  a crash, a torn last line (a write that never returned) is ignored, and no write rewrites the whole file.
  At start the journal is replayed over the snapshot ``PATH`` and folded into a new snapshot, written to a
  temporary file and renamed, so neither file is ever left half-written.

An fsync costs milliseconds, so the running mock commits in groups (:class:`GroupCommit`): a write reaches the
operating system at once, and no answer leaves before an fsync that started after every write made before
it has returned. While one fsync runs (in a thread, off the event loop), the requests that arrive meanwhile
write too, and the next fsync acknowledges all of them together.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import os
import tempfile
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document, Table

log = logging.getLogger("mockserver.store")

SESSION_REGISTRY = "__sessions__"
COUNTERS = "__counters__"
SNAPSHOT_VERSION = 1


class StoreError(Exception):
    """The database file cannot be used; the message names the file and why."""


class _ChangeRecorder(MutableMapping):
    """The table dict as TinyDB's updaters see it, noting every key they read or write.

    TinyDB's updaters change documents in place (``table[doc_id].update(fields)``), so a key counts as
    touched as soon as it is looked up; its indexed fields are remembered as they were before the change.
    """

    def __init__(self, data: dict[str, dict[str, Any]], indexed: Iterable[str]) -> None:
        self.data = data
        self.indexed = tuple(indexed)
        self.before: dict[str, dict[str, Any] | None] = {}
        self.cleared = False

    def _touch(self, key: str) -> None:
        if key not in self.before:
            doc = self.data.get(key)
            self.before[key] = None if doc is None else {field: doc.get(field) for field in self.indexed}

    def __getitem__(self, key: str) -> dict[str, Any]:
        self._touch(key)
        return self.data[key]

    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        self._touch(key)
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        self._touch(key)
        del self.data[key]

    def pop(self, key: str, *default: Any) -> Any:
        self._touch(key)
        return self.data.pop(key, *default)

    def clear(self) -> None:
        self.cleared = True
        self.before.clear()
        self.data.clear()

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def keys(self):  # reading keys is not touching them
        return self.data.keys()


class KeyedTable(Table):
    """A TinyDB table keyed by the record's own id, changed in place, with secondary indexes."""

    document_id_class = str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._indexes: dict[str, dict[Any, set[str]]] = {}

    def _get_next_id(self):  # pragma: no cover - every insert names its key
        raise TypeError("records in a KeyedTable are always stored under their own key")

    def _update_table(self, updater: Callable[[dict], None]) -> None:
        tables = self._storage.read()
        if tables is None:
            tables = {}
            self._storage.write(tables)
        data = tables.setdefault(self.name, {})
        recorder = _ChangeRecorder(data, self._indexes)
        updater(recorder)  # type: ignore[arg-type]
        changed = {key: data.get(key) for key in recorder.before}
        commit = getattr(self._storage, "commit", None)
        if commit is not None:
            commit(self.name, changed, cleared=recorder.cleared)
        self._reindex(recorder, changed)
        self.clear_cache()

    def _reindex(self, recorder: _ChangeRecorder, changed: dict[str, dict[str, Any] | None]) -> None:
        if recorder.cleared:
            for index in self._indexes.values():
                index.clear()
        for field, index in self._indexes.items():
            for key, doc in changed.items():
                old = recorder.before.get(key)
                if old is not None:
                    keys = index.get(old.get(field))
                    if keys is not None:
                        keys.discard(key)
                if doc is not None:
                    index.setdefault(doc.get(field), set()).add(key)

    def keys_where(self, field: str, value: Any) -> set[str]:
        """Keys of the documents whose ``field`` equals ``value``; the index is built on first use."""
        index = self._indexes.get(field)
        if index is None:
            index = {}
            for key, doc in self._read_table().items():
                index.setdefault(doc.get(field), set()).add(key)
            self._indexes[field] = index
        return index.get(value, set())


class KeyedTinyDB(TinyDB):
    table_class = KeyedTable

    def drop_table(self, name: str) -> None:
        drop = getattr(self.storage, "drop", None)
        if drop is not None:
            self._tables.pop(name, None)
            drop(name)
        else:
            super().drop_table(name)


class JournalStorage(Storage):
    """A snapshot file plus an append-only journal of changes, each fsynced before its write returns."""

    def __init__(self, path: str | os.PathLike[str], *, sync_each_write: bool = True) -> None:
        """``sync_each_write=False`` leaves the fsync of appended writes to :meth:`sync` (see :class:`GroupCommit`)."""
        self.sync_each_write = sync_each_write
        self.appended = 0
        """Journal entries appended since start (a position that only grows)."""
        self.synced = 0
        """Entries known to be on disk: every entry up to this position survives a crash of the machine."""
        self.path = Path(path)
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._data: dict[str, dict[str, Any]] = self._load_snapshot()
        replayed = self._replay()
        if replayed or not self.path.exists():
            self._compact()
        self._journal = open(self.journal_path, "ab")

    # --- start: snapshot, then the journal -------------------------------------------------------------

    def _load_snapshot(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"cannot read the mock database {self.path}: {exc}") from exc
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise StoreError(f"the mock database {self.path} is corrupt or truncated ({exc}); "
                             "move it away or pass another --db") from exc
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise StoreError(f"the mock database {self.path} does not hold a mock state (not a JSON object of tables)")
        return data

    def _replay(self) -> int:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return 0
        lines = raw.split(b"\n")
        complete, torn = lines[:-1], lines[-1]
        for number, line in enumerate(complete, start=1):
            try:
                self._apply(json.loads(line))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise StoreError(f"the mock database journal {self.journal_path} is corrupt at line {number} "
                                 f"({exc}); move it away or pass another --db") from exc
        if torn.strip():
            log.warning("ignored a torn last line in %s (a write that never completed)", self.journal_path)
        return len(complete) + bool(torn.strip())

    def _apply(self, entry: dict[str, Any]) -> None:
        name = entry["t"]
        if entry.get("drop"):
            self._data.pop(name, None)
            return
        table = self._data.setdefault(name, {})
        if entry.get("clear"):
            table.clear()
        for key, doc in entry.get("set", {}).items():
            table[key] = doc
        for key in entry.get("del", []):
            table.pop(key, None)

    def _compact(self) -> None:
        """Fold everything into a new snapshot (temporary file, fsync, rename), then start an empty journal.

        Everything appended before is in the new snapshot, so it is on disk when this returns.
        """
        upto = self.appended
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._data, fh, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with open(self.journal_path, "wb") as journal:
            os.fsync(journal.fileno())
        _fsync_dir(self.path.parent)
        self.synced = max(self.synced, upto)

    # --- the Storage interface, and the journal --------------------------------------------------------

    def read(self) -> dict[str, dict[str, Any]]:
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """A whole-database write (TinyDB's own database-level operations): a new snapshot."""
        self._data = data
        self._compact()

    def commit(self, table: str, changed: dict[str, dict[str, Any] | None], *, cleared: bool = False) -> None:
        entry: dict[str, Any] = {"t": table}
        if cleared:
            entry["clear"] = True
        sets = {key: doc for key, doc in changed.items() if doc is not None}
        deletes = [key for key, doc in changed.items() if doc is None]
        if sets:
            entry["set"] = sets
        if deletes:
            entry["del"] = deletes
        self._append(entry)

    def drop(self, table: str) -> None:
        if self._data.pop(table, None) is not None:
            self._append({"t": table, "drop": True})

    def _append(self, entry: dict[str, Any]) -> None:
        self._journal.write(json.dumps(entry, separators=(",", ":")).encode() + b"\n")
        self._journal.flush()  # in the operating system's hands: a crash of the process cannot lose it
        self.appended += 1
        if self.sync_each_write:
            self.sync()

    def sync(self) -> None:
        """fsync the journal: every entry appended before the call is on disk when it returns."""
        upto = self.appended
        os.fsync(self._journal.fileno())
        self.synced = max(self.synced, upto)

    def journal_fd(self) -> int:
        return self._journal.fileno()

    def close(self) -> None:
        if not self._journal.closed:
            if self.synced < self.appended:
                self.sync()
            self._journal.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class GroupCommit:
    """Lets each answer wait until the writes made before it are on disk, with one fsync for many writes.

    :meth:`wait` returns once an fsync that began after every write appended so far has completed. At most one
    fsync runs at a time, in a thread; the writes appended while it runs are covered by the next one, which
    all of their answers share. ``synced`` only ever understates what is on disk: each update uses the
    position read before its fsync started, so a race between event loops (tests may run two) costs an fsync,
    never an answer sent too early.
    """

    def __init__(self, storage: JournalStorage) -> None:
        self._storage = storage
        self._running: asyncio.Task[None] | None = None

    async def wait(self) -> None:
        storage = self._storage
        target = storage.appended
        loop = asyncio.get_running_loop()
        while storage.synced < target:
            running = self._running
            if running is None or running.get_loop() is not loop:
                running = self._running = loop.create_task(self._sync())
            await asyncio.shield(running)

    async def _sync(self) -> None:
        storage = self._storage
        try:
            upto = storage.appended
            await asyncio.get_running_loop().run_in_executor(None, os.fsync, storage.journal_fd())
            storage.synced = max(storage.synced, upto)
        finally:
            if self._running is asyncio.current_task():
                self._running = None


Seeder = Callable[["Session"], None]


class Store:
    """The mock's state: sessions of tables, under one lock."""

    def __init__(self, path: str | os.PathLike[str] | None = None, seeders: Iterable[Seeder] = (),
                 *, group_commit: bool = False) -> None:
        """``group_commit``: a write returns before its fsync; the server awaits :attr:`commit` before answering."""
        self.lock = threading.RLock()
        self.path = Path(path) if path is not None else None
        self.commit: GroupCommit | None = None
        if self.path is None:
            self._db = KeyedTinyDB(storage=MemoryStorage)
        else:
            self._db = KeyedTinyDB(self.path, storage=JournalStorage, sync_each_write=not group_commit)
            if group_commit:
                self.commit = GroupCommit(self._db.storage)
        self._seeders = list(seeders)
        self._sessions: dict[str, Session] = {}

    # --- sessions ---------------------------------------------------------------------------------------

    def session(self, name: str) -> Session:
        """The session called ``name``, created and seeded on first use."""
        session = self._sessions.get(name)
        if session is not None:
            return session
        with self.lock:
            if name not in self._sessions:
                session = Session(self, name)
                registry = self._db.table(SESSION_REGISTRY)
                if registry.get(doc_id=name) is None:
                    for seed in self._seeders:
                        seed(session)
                    registry.insert(Document({"name": name}, doc_id=name))
                self._sessions[name] = session
            return self._sessions[name]

    def session_names(self) -> list[str]:
        with self.lock:
            return sorted(str(doc.doc_id) for doc in self._db.table(SESSION_REGISTRY).all())

    def reset(self, name: str) -> None:
        """Back to seed data (or empty, without seeders) for one session."""
        with self.lock:
            self._drop(name)
            self.session(name)

    def reset_all(self) -> None:
        with self.lock:
            for name in self.session_names():
                self._drop(name)

    def _drop(self, name: str) -> None:
        for table in self._session_tables(name):
            self._db.drop_table(table)
        for bookkeeping in (SESSION_REGISTRY, COUNTERS):
            table = self._db.table(bookkeeping)
            if table.get(doc_id=name) is not None:
                table.remove(doc_ids=[name])
        self._sessions.pop(name, None)

    def _session_tables(self, name: str) -> list[str]:
        prefix = f"{name}/"
        return [table for table in self._db.tables() if table.startswith(prefix)]

    # --- snapshots --------------------------------------------------------------------------------------

    def export(self, name: str) -> dict[str, Any]:
        """Everything one session holds, as a JSON-ready snapshot that :meth:`restore` takes back."""
        with self.lock:
            self.session(name)
            tables = {
                table.split("/", 1)[1]: {str(doc.doc_id): dict(doc) for doc in self._db.table(table).all()}
                for table in self._session_tables(name)
            }
            counters = self._db.table(COUNTERS).get(doc_id=name) or {}
            return {"version": SNAPSHOT_VERSION, "session": name, "tables": tables, "counters": dict(counters)}

    def restore(self, name: str, snapshot: dict[str, Any]) -> None:
        """Replace one session's state by a snapshot from :meth:`export`. The caller has checked its shape."""
        with self.lock:
            self._drop(name)
            session = Session(self, name)
            for table, records in snapshot["tables"].items():
                session.table(table).replace_all(records)
            if snapshot.get("counters"):
                self._db.table(COUNTERS).insert(Document(dict(snapshot["counters"]), doc_id=name))
            self._db.table(SESSION_REGISTRY).insert(Document({"name": name}, doc_id=name))
            self._sessions[name] = session

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def _table(self, name: str) -> Table:
        return self._db.table(name)


class Session:
    """One namespace of state: the tables a vendor module reads and writes."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name

    def table(self, name: str) -> Records:
        return Records(self.store, f"{self.name}/{name}")

    def next_number(self, sequence: str, start: int | Callable[[], int] = 1) -> int:
        """The next integer of a per-session sequence (file ids, RootFi ids...), never handed out twice.

        ``start`` is the lowest value to hand out. It may be a function, called only while the sequence has no
        counter yet (records seeded or imported without one), so that finding the highest id in use costs a
        scan once per session rather than once per write.
        """
        with self.store.lock:
            counters = self.store._table(COUNTERS)
            current = counters.get(doc_id=self.name)
            if current is not None and sequence in current:
                value = max(int(current[sequence]) + 1, 1 if callable(start) else start)
            else:
                value = start() if callable(start) else start
            if current is None:
                counters.insert(Document({sequence: value}, doc_id=self.name))
            else:
                counters.update({sequence: value}, doc_ids=[self.name])
            return value


class Records:
    """The records of one table in one session, keyed by their id. Returns copies: callers may mutate them."""

    def __init__(self, store: Store, table: str) -> None:
        self._store = store
        self._name = table

    @property
    def _table(self) -> Table:
        return self._store._table(self._name)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._store.lock:
            doc = self._table.get(doc_id=str(key))
            return dict(doc) if doc is not None else None

    def insert(self, key: str, record: dict[str, Any]) -> None:
        with self._store.lock:
            self._table.insert(Document(record, doc_id=str(key)))

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key``, replacing whatever was there."""
        with self._store.lock:
            table = self._table
            if table.get(doc_id=str(key)) is None:
                table.insert(Document(record, doc_id=str(key)))
            else:
                table.update(_replace_with(record), doc_ids=[str(key)])

    def update(self, key: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Change some fields of one record; the updated record, or None if there is none."""
        with self._store.lock:
            table = self._table
            if table.get(doc_id=str(key)) is None:
                return None
            table.update(fields, doc_ids=[str(key)])
            return dict(table.get(doc_id=str(key)))

    def where_equal(self, field: str, value: Any) -> list[dict[str, Any]]:
        """The records whose ``field`` equals ``value``, found through an index rather than a scan."""
        with self._store.lock:
            table = self._table
            data = table._read_table()
            return [dict(data[key]) for key in table.keys_where(field, value) if key in data]

    def page_where_equal(
        self,
        field: str,
        value: Any,
        *,
        keep: Callable[[dict[str, Any]], bool],
        order: Callable[[dict[str, Any]], Any],
        reverse: bool = False,
        start: int = 0,
        count: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of the records whose ``field`` equals ``value`` and that ``keep`` accepts.

        Returns how many records match, and copies of ``sorted(matching, key=order, reverse=reverse)
        [start:start + count]``. Only the page is copied, and only the first ``start + count`` are ordered, so a
        first page of a large set costs a pass over it rather than a copy and a full sort of it.
        """
        with self._store.lock:
            table = self._table
            data = table._read_table()
            found = [doc for key in table.keys_where(field, value) if (doc := data.get(key)) is not None and keep(doc)]
            stop = len(found) if count is None else start + count
            first = (heapq.nlargest if reverse else heapq.nsmallest)(stop, found, key=order)
            return len(found), [dict(doc) for doc in first[start:]]

    def where(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._store.lock:
            return [dict(doc) for doc in self._table.all() if predicate(doc)]

    def all(self) -> list[dict[str, Any]]:
        with self._store.lock:
            return [dict(doc) for doc in self._table.all()]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.all())

    def __len__(self) -> int:
        with self._store.lock:
            return len(self._table)

    def replace_all(self, records: dict[str, dict[str, Any]]) -> None:
        with self._store.lock:
            table = self._table
            table.truncate()
            table.insert_multiple(Document(dict(doc), doc_id=str(key)) for key, doc in records.items())


def _replace_with(record: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def transform(doc: dict[str, Any]) -> None:
        doc.clear()
        doc.update(record)

    return transform
