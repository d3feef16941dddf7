"""Device side: protocol (the wire format), link (a session's frames, retries and
handshake), client (the data requests), session (vectors through the device), and the
backends that boot a firmware."""
