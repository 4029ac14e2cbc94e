"""The lobby kiosk: the flow as large-type pages, with its templates and static files."""
