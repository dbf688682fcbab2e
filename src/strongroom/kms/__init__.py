"""Key management: Key Protect / Hyper Protect Crypto Services keys (spec kms-api.md).

A peer of IAM: it sees IAM only through the Authorizer (each operation checks its action on the
key's resource attributes), and resource instances only through the instance it is addressed
by (`Bluemix-Instance`).
"""
