"""The service's settings: the library's (`hearback.settings`) and the service's own."""
