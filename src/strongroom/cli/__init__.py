"""The `strongroom` command: thin, and (but for `serve` and `admin`) a plain HTTP client."""
