"""Device side: the wire protocol, the link, and the backends that boot a firmware."""
