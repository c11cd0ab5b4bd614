"""Deadline reminders: which are due when, and delivering them once."""
