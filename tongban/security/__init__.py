"""Data security: labels and clearances, mandatory access control, masking, crypto suites, keys.

A pure library in this slice: no tables yet. Every read path hands its records to
``mac.enforce``; the labels, grades and masking rules are data files, not code.
"""
