"""Running the line: Twilio wiring, backups and metrics, each through its own real door."""
