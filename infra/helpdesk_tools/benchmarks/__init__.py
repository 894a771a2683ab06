"""`helpdesk bench ...`: speed and memory figures, comparisons side by side in one run."""
