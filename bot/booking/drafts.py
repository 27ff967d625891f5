"""Booking drafts: what a citizen has typed during a booking form, kept until the booking is made or abandoned.

One SQL table in the booking database (SQLite by default, PostgreSQL in production), shared by every action server,
so a restart or another instance continues the form. Each row is one Fernet token holding the whole draft (slot,
idempotency key, name, phone, ID number), so nothing in it is readable without the data key; the row is found by a
keyed hash of the sender id, so WeChat OpenIDs and call ids are not stored in clear either. Rows expire TTL_SECONDS
after the last change; expired rows are deleted whenever a new draft starts.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, delete, insert, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from .engine import READ_ONLY, make_engine
from .vault import InvalidToken, Vault

TTL_SECONDS = 30 * 60

metadata = MetaData()  # not in the alembic-managed MetaData: the action server creates it where it needs it
booking_drafts = Table(
    "booking_drafts", metadata,
    Column("sender_key", String(64), primary_key=True),  # HMAC-SHA256 of the sender id
    Column("sealed", Text, nullable=False),  # Fernet token of the draft as JSON
    Column("expires_at", BigInteger, nullable=False, index=True),  # Unix seconds
)


@dataclass
class Draft:
    choice: dict[str, str]  # hall_id, hall_name, category, date, start, end
    key: str = field(default_factory=lambda: uuid.uuid4().hex)  # idempotency key: a retried submit books once
    name: str = ""
    phone: str = ""
    id_number: str = ""

    def __repr__(self) -> str:
        return f"Draft({self.choice}, {self.key})"  # never the personal data


class DraftStore:
    def __init__(self, url_or_engine: str | Engine, vault: Vault | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        self.vault = vault or Vault.configured()
        self.clock = clock
        self._create_table()

    def _create_table(self) -> None:
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except DBAPIError:  # another process created it at the same moment
            if not inspect(self.engine).has_table(booking_drafts.name):
                raise

    def _key(self, sender_id: str) -> str:
        return self.vault.digest("draft:" + sender_id)

    def start(self, sender_id: str, choice: dict[str, str]) -> Draft:
        draft = Draft(dict(choice))
        with self.engine.begin() as conn:
            conn.execute(delete(booking_drafts).where(booking_drafts.c.expires_at < int(self.clock())))
        self.save(sender_id, draft)
        return draft

    def save(self, sender_id: str, draft: Draft) -> None:
        key = self._key(sender_id)
        row = {"sealed": self.vault.encrypt(json.dumps(asdict(draft), ensure_ascii=False)),
               "expires_at": int(self.clock()) + TTL_SECONDS}
        with self.engine.begin() as conn:  # the conversation's lock in Rasa keeps two writers of one sender apart
            if conn.execute(update(booking_drafts).where(booking_drafts.c.sender_key == key).values(**row)).rowcount:
                return
            conn.execute(insert(booking_drafts).values(sender_key=key, **row))

    def get(self, sender_id: str) -> Draft | None:
        query = select(booking_drafts.c.sealed).where(booking_drafts.c.sender_key == self._key(sender_id),
                                                      booking_drafts.c.expires_at >= int(self.clock()))
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn, conn.begin():
            sealed = conn.execute(query).scalar()
        if sealed is None:
            return None
        try:
            values: dict[str, Any] = json.loads(self.vault.decrypt(sealed))
        except InvalidToken:  # made with another data key: as good as expired
            self.drop(sender_id)
            return None
        return Draft(**values)

    def update(self, sender_id: str, **fields: str) -> Draft | None:
        """Sets name, phone or id_number on the sender's draft (and restarts its expiry); None when there is none."""
        draft = self.get(sender_id)
        if draft is None:
            return None
        for name, value in fields.items():
            if name not in ("name", "phone", "id_number"):
                raise ValueError(f"not a draft field: {name}")
            setattr(draft, name, value)
        self.save(sender_id, draft)
        return draft

    def drop(self, sender_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(booking_drafts).where(booking_drafts.c.sender_key == self._key(sender_id)))
