"""Data access: one repository per aggregate, each taking its client or table from the caller."""
