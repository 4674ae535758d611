"""Stand-in servers that speak cloud services' documented wire protocols on 127.0.0.1 (port 0), for tests."""
