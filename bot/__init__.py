"""Composition root and faces: the `policybot` CLI, configuration, the console chat."""
