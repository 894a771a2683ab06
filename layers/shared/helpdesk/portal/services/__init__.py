"""The portal's use cases; each takes the portal context, the caller and `now`."""
