"""The offline HTML report: index, one page per benchmarking group and one per trust, built from frames."""
