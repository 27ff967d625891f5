"""Channels that bring citizens' messages to the assistant."""
