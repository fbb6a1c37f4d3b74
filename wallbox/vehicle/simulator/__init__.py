"""A fake Tesla vehicle API on loopback, for tests and `make demo`:
`python -m wallbox.vehicle.simulator --help`."""
