"""The scenario database: SQLAlchemy models, rebuilt from the catalog YAML and read back by the actions."""
