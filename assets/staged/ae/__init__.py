"""A&E attendances and emergency admissions (monthly MSitAE CSV)."""
