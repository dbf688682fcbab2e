"""The audit trail (reliability.md A3): one CADF event, in IBM Activity Tracker's shape, per
mutating call, denial and key operation, kept per account in a SHA-256 hash chain."""
