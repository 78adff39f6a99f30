"""The service's database foundation: engine and schema upgrades, the declarative base, the clock,
text folding and the audit log that every room writes to."""
