"""Chalice blueprints of the portal; each module exposes `blueprint`."""
