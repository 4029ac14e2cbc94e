"""The flow engine: menus as data and a pure step function; no I/O, no Flask, no channel."""
