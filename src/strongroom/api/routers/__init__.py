"""One router module per IBM API family."""
