"""The reference IM gateway: the system gatewatch watches, breaks and pages on."""
