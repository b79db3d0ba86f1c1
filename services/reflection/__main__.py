"""`python -m services.reflection` runs the service on the port its settings name."""

from kit.app import serve
from services.reflection.settings import ReflectionSettings

if __name__ == "__main__":
    serve("services.reflection.app:create_app", ReflectionSettings())
