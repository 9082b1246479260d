"""A throw-away app offering one gate, to show that a gate is one module and one line."""
