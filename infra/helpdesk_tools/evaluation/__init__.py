"""`helpdesk eval ...`: quality figures on any data set of the documented shape."""
