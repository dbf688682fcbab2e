from tests.api.conftest import bearer, http

__all__ = ["bearer", "http"]
