"""IAM tokens: RS256 JWTs in IBM's claim shape (spec §3), the signing key set, and the grants."""
