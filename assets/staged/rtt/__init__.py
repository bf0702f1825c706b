"""Consultant-led referral to treatment waiting times (monthly full CSV extract in a zip)."""
