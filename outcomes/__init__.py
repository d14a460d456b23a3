"""outcomes: outcomes research for NHS mental health provider collaboratives.

Layers (data flows one way): extract -> validate -> cohort -> measures -> model ->
figure/table -> disclosure control -> report. A lower layer never imports a higher one
(docs/design.md, "Layers and their rules").
"""

__version__ = "0.1.0"
