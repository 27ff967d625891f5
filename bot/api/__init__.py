"""The hall service's HTTP API (aiohttp): halls, live queues, slots and appointments."""
