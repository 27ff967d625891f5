"""Household-registration halls: the catalog's hall list, opening hours and districts."""
