"""`helpdesk mail ...`: parse mail files, replay them into a desk."""
