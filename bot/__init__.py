"""网上户籍室 assistant: catalog, database, consultation engine, NLU components and channels."""
