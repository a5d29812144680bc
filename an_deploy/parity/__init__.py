"""Parity: the tolerance table, comparison statistics, the backend matrix and its reports."""
