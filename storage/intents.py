"""The wallbox controller's intent per car, kept across restarts.

One row per VIN: the newest wish for charging on/off, amps and target SoC, and
which of them were not yet carried out. The controller loads all rows at start
and writes a row before it answers the request that changed it, so an answered
request is never forgotten by a restart.
"""

import time
from dataclasses import dataclass

import aiosqlite

from storage.database import Database


@dataclass(frozen=True, slots=True)
class StoredIntent:
    charging: bool | None
    amps: int | None
    target_soc: int | None
    open_goals: tuple[str, ...] = ()
    updated_ms: int = 0


class IntentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_all(self) -> dict[str, StoredIntent]:
        async def op(conn: aiosqlite.Connection) -> dict[str, StoredIntent]:
            async with conn.execute(
                "SELECT vin, charging, amps, target_soc, open_goals, updated_ms FROM charge_intent"
            ) as cursor:
                rows = await cursor.fetchall()
            return {
                vin: StoredIntent(
                    None if charging is None else bool(charging),
                    amps,
                    target_soc,
                    tuple(g for g in goals.split(",") if g),
                    updated_ms,
                )
                for vin, charging, amps, target_soc, goals, updated_ms in rows
            }

        return await self.db.read(op)

    async def save(self, vin: str, intent: StoredIntent) -> None:
        updated_ms = intent.updated_ms or int(time.time() * 1000)

        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                """
                INSERT INTO charge_intent (vin, charging, amps, target_soc, open_goals, updated_ms)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (vin) DO UPDATE SET
                    charging = excluded.charging, amps = excluded.amps,
                    target_soc = excluded.target_soc, open_goals = excluded.open_goals,
                    updated_ms = excluded.updated_ms
                """,
                (
                    vin,
                    None if intent.charging is None else int(intent.charging),
                    intent.amps,
                    intent.target_soc,
                    ",".join(intent.open_goals),
                    updated_ms,
                ),
            )

        await self.db.write(op)
