"""rasa-sdk action server: the consultation loop and its helpers, reading the scenario database."""
