"""The one way in: see `outcomes.source.open`."""
