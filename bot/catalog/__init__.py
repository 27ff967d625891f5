"""The scenario catalog: YAML source of truth, its object model, loader and validator."""
