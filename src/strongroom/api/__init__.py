"""HTTP transport: IBM's paths and shapes over the domain services. No business logic here."""
