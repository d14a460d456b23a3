"""outcomes: outcomes research for NHS mental health provider collaboratives.

Layers (data flows one way): source (the way in, validated against the contract) -> cohort ->
measures -> model -> figure/table -> disclosure control -> report. A lower layer never imports a
higher one (docs/design.md, "Layers and their rules"): `.importlinter` states the layers and
`make test` checks them (tests/test_layers.py).
"""

__version__ = "0.1.0"
