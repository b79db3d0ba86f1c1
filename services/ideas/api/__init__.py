"""The ideas service's REST routes, one module per resource."""

from services.ideas.api import discussion, ideas, webhooks

ROUTERS = [ideas.router, discussion.router, webhooks.router]
