"""Key rotation: re-encrypts every stored appointment and booking draft with the current data key.

Run `./huji rekey` with the new secret in HUJI_DATA_KEY and the previous one in HUJI_DATA_KEY_OLD, while the hall
service and the action servers are stopped (the one-active-booking rule finds a person by a keyed hash: until the
rows are rekeyed, the new key would not find bookings made under the old one). Afterwards HUJI_DATA_KEY_OLD can go.
Booking drafts are found by a keyed hash of the sender that cannot be recomputed, so they are simply deleted.
"""

from __future__ import annotations

import hmac
import json

from sqlalchemy import bindparam, delete, inspect, select, update
from sqlalchemy.engine import Engine

from .drafts import booking_drafts
from .models import appointments
from .vault import Vault

_a = appointments.c
_REKEY = update(appointments).where(_a.id == bindparam("p_id")).values(
    name=bindparam("p_name"), phone=bindparam("p_phone"), id_number=bindparam("p_id_number"),
    person_key=bindparam("p_person_key"), request_fingerprint=bindparam("p_fingerprint"))


def rekey(engine: Engine, vault: Vault) -> int:
    """Rewrites every appointment's encrypted fields and keyed hashes under vault's current key; returns the count.
    A request fingerprint stays valid only if it matches the row as it now is (a rescheduled booking's does not,
    and then becomes NULL, as migration 0002 does). InvalidToken, and nothing changed, if a row needs another key."""
    with engine.begin() as conn:
        rows = conn.execute(select(appointments)).fetchall()
        changes = []
        for row in rows:
            clear = [vault.decrypt(getattr(row, k)) if getattr(row, k) is not None else None
                     for k in ("name", "phone", "id_number")]
            fingerprint = None
            if row.request_fingerprint is not None and None not in clear:
                request = json.dumps([row.hall_id, row.category, row.day.isoformat(), row.start, *clear])
                if any(hmac.compare_digest(v.digest(request), row.request_fingerprint) for v in [vault, *vault.old]):
                    fingerprint = vault.digest(request)
            changes.append({
                "p_id": row.id, "p_name": vault.rotate(row.name), "p_phone": vault.rotate(row.phone),
                "p_id_number": vault.rotate(row.id_number), "p_fingerprint": fingerprint,
                "p_person_key": None if row.person_key is None or clear[2] is None else vault.person_key(clear[2])})
        if changes:
            conn.execute(_REKEY, changes)
        if inspect(conn).has_table(booking_drafts.name):
            conn.execute(delete(booking_drafts))
    return len(changes)
