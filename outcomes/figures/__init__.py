"""Figures: the house style and its chart builders (:mod:`outcomes.figures.plots`), and a figure
drawn once, saved as PNG and checked for unreadable text (:mod:`outcomes.figures.png`)."""
