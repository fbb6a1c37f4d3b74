"""The aiosqlite store: schema, migrations, samples, queue and history. Nothing about HTTP."""
