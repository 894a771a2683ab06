"""The pure domain: models and rules over plain data, time passed in as `now`."""
