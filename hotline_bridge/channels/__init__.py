"""The channels, one package each: they turn what a person sent into input and render screens."""
