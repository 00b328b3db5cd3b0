"""Pure domain core of the DCC User Entry Process (SEC H1): no I/O, no clock, no Temporal."""
