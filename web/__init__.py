"""The web pages of the sign-up flow: static HTML that calls the same-origin ``/user/`` JSON API."""
