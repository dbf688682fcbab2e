"""Request bodies (pydantic) and response presenters, one module per IBM API family."""
