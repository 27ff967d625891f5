"""The data-driven consultation: which question to ask next, which scenario applies, how to present it."""
