"""strongroom: IAM and key management that speaks IBM Cloud's own APIs."""

__version__ = "0.1.0"
