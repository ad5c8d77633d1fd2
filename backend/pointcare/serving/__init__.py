"""Serving Pointcare to phones on the ward's network: HTTPS certificates, LAN addresses, QR."""
