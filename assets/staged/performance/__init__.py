"""Shared shape, validation and ODS matching of the monthly performance datasets, and the combined tables."""
