"""The directory: services and sites, the SQLite store, national lines, nearby, hours, imports."""
