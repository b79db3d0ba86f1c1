"""`python -m services.ideas` runs the service on the port its settings name."""

from kit.app import serve
from services.ideas.settings import IdeasSettings

if __name__ == "__main__":
    serve("services.ideas.app:create_app", IdeasSettings())
