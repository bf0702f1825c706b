"""NHS sickness absence rates (monthly CSV)."""
