"""Automation: assignment, rules that fire on events, and time-based rules."""
