"""Witnessing: a parent node keeps its children's signed audit checkpoints."""
