"""The ideas service's domain rules: who may do what, in which state, what it sets in motion."""
