"""All mock state, in one TinyDB: sessions, the one lock, persistence and snapshots.

Every session (the ``X-Mock-Session`` header; ``default`` without it) owns its own tables, named
``<session>/<table>``, so parallel test jobs never see each other's records. A session is seeded on first use.

TinyDB is not thread-safe (a read-modify-write of a whole table per operation), so every call into it goes
through :attr:`Store.lock`. With a file, :class:`AtomicJSONStorage` writes a complete new file and renames it
over the old one before the write returns: a client that got a 2xx answer finds its write after a crash, and
the file is never half-written.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document, Table

SESSION_REGISTRY = "__sessions__"
COUNTERS = "__counters__"
SNAPSHOT_VERSION = 1


class StoreError(Exception):
    """The database file cannot be used; the message names the file and why."""


class KeyedTable(Table):
    """A TinyDB table whose documents are keyed by the record's own id (a UUID, an invite-link id...).

    Looking a record up by its id is then a dict lookup instead of a scan.
    """

    document_id_class = str

    def _get_next_id(self):  # pragma: no cover - every insert names its key
        raise TypeError("records in a KeyedTable are always stored under their own key")


class KeyedTinyDB(TinyDB):
    table_class = KeyedTable


class AtomicJSONStorage(Storage):
    """A JSON file written whole to a temporary file, fsynced and renamed over the old one on every write.

    Reads are served from memory: the file is parsed once, at start.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._data: dict[str, Any] | None = self._load()

    def _load(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read the mock database {self.path}: {exc.strerror}") from exc
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(f"the mock database {self.path} is corrupt or truncated ({exc}); "
                             "move it away or pass another --db") from exc
        if not isinstance(data, dict):
            raise StoreError(f"the mock database {self.path} does not hold a mock state (not a JSON object)")
        return data

    def read(self) -> dict[str, Any] | None:
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._data = data

    def close(self) -> None:
        pass


Seeder = Callable[["Session"], None]


class Store:
    """The mock's state: sessions of tables, under one lock."""

    def __init__(self, path: str | os.PathLike[str] | None = None, seeders: Iterable[Seeder] = ()) -> None:
        self.lock = threading.RLock()
        self.path = Path(path) if path is not None else None
        if self.path is None:
            self._db = KeyedTinyDB(storage=MemoryStorage)
        else:
            self._db = KeyedTinyDB(self.path, storage=AtomicJSONStorage)
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

    def next_number(self, sequence: str, start: int = 1) -> int:
        """The next integer of a per-session sequence (file ids, RootFi ids...), never handed out twice."""
        with self.store.lock:
            counters = self.store._table(COUNTERS)
            current = counters.get(doc_id=self.name)
            value = max(int((current or {}).get(sequence, start - 1)) + 1, start)
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
