"""Catalog across levels: items inherited downward, each node's catalog aggregated upward."""
