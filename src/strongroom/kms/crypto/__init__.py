"""Where key material lives: the CryptoBackend seam (software now, PKCS#11 later)."""
