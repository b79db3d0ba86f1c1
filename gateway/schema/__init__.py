"""The GraphQL schema: one module (or package) per domain, composed in root.py."""
