"""Real stand-ins for the outside world, used by the integration tests: an SMTP server, a fake
Twilio REST API and helpers to run the project's own processes (worker, gunicorn, flower)."""
