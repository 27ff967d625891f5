"""Live hall queues: ticket-machine events, the in-memory board that reports them, and a simulator of all halls."""
