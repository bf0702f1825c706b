"""Organisations: ODS trusts joined with the staff survey's benchmarking groups."""
