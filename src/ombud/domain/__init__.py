"""Plain dataclasses, rules and state machines. Imports only the standard library."""
