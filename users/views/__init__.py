"""The /user/ API, one module per flow like users/services: each view validates its input, calls
one service and serializes the result; errors are raised and shaped by ``project.exceptions``."""
