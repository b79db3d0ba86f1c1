"""`python -m services.analytics` runs the service on the port its settings name."""

from kit.app import serve
from services.analytics.settings import AnalyticsSettings

if __name__ == "__main__":
    serve("services.analytics.app:create_app", AnalyticsSettings())
