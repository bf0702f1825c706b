"""Cancer waiting times (monthly combined workbook, and the provider workbook)."""
