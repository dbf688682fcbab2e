"""The key management service's cryptography: backend, ciphertext format, import tokens."""
