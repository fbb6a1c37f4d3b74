"""The wallbox HTTP API: the aiohttp application, its OpenAPI description, and
who may use it. Handlers only translate HTTP to calls on `wallbox.control`."""
