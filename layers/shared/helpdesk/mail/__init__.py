"""Email: parsing raw MIME, classifying automatic mail, threading, sending."""
