"""The account flows, one module each: signup, profile (completion, changes, change of address or
number), password (checks and reset), login (password or code), sessions (tokens, refresh,
logout), deletion. They share the code flow of codeflow.py. Views call exactly one of these;
failures are ApplicationError subclasses with stable codes. Passwords are hashed before any
transaction opens."""
