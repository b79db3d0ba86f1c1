"""`python -m gateway` runs the gateway on the port its settings name."""

from gateway.settings import GatewaySettings
from kit.app import serve

if __name__ == "__main__":
    serve("gateway.app:create_app", GatewaySettings())
