"""Placeholder until the data work lands."""
__all__: list[str] = []
