"""Ideas in GraphQL: types.py, queries.py, mutations.py, subscriptions.py."""
