"""Service levels: business calendars, policies, the pure SLA clock, refresh and the sweep."""
