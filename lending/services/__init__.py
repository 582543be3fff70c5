"""Every write in lending goes through these service functions (see each module)."""
