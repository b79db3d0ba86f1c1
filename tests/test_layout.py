"""The shape of the code base (issue 13; docs/architecture.md "Layout" and "Modules"):
the module table in docs/architecture.md matches the tree, every service has the same role files,
no module passes 400 lines, kit/ knows no domain, and every public function and class says what it
does in a docstring. These read the source as text and syntax trees; nothing is imported."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kit", "services", "gateway")
MAX_LINES = 400

# A domain package holds one subdomain's routes, rules and data. ideas is one domain; reflection
# and analytics are split into subdomains, each with the same roles (docs/architecture.md "Layout").
DOMAIN_PACKAGES = (
    "services/ideas",
    "services/reflection/documents",
    "services/reflection/search",
    "services/reflection/journal",
    "services/reflection/gaps",
    "services/analytics/statements",
    "services/analytics/metrics",
    "services/analytics/credentials",
)
SERVICES = ("services/ideas", "services/reflection", "services/analytics")


def _modules() -> list[Path]:
    """Every Python module of the product, except migration revisions (generated, one per change)
    and package markers with nothing in them."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "versions" in relative.parts and "migrations" in relative.parts:
                continue
            if path.name == "__init__.py" and not ast.parse(path.read_text("utf-8")).body[1:]:
                continue  # empty, or a docstring only
            found.append(relative)
    return found


def _role(package: str, role: str) -> bool:
    """A role is a module (`api.py`) or a package of modules (`api/`)."""
    return (ROOT / package / f"{role}.py").exists() or (ROOT / package / role).is_dir()


def test_the_module_table_in_the_architecture_page_matches_the_tree() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    listed = re.findall(r"^\| `([\w/.]+\.py)` \| \S", page, flags=re.MULTILINE)
    assert len(listed) == len(set(listed)), "a module is listed twice"
    tree = {str(path) for path in _modules()}
    missing = sorted(tree - set(listed))
    gone = sorted(set(listed) - tree)
    assert not missing, f"modules without a row in docs/architecture.md: {missing}"
    assert not gone, f"rows in docs/architecture.md for modules that no longer exist: {gone}"


def test_every_service_and_subdomain_has_the_same_role_files() -> None:
    for service in SERVICES:
        for role in ("app", "settings", "gdpr", "__main__"):
            assert _role(service, role), f"{service} has no {role}.py"
        assert (ROOT / service / "migrations" / "env.py").exists(), f"{service} has no migrations"
    for package in DOMAIN_PACKAGES:
        for role in ("api", "service", "models"):
            assert _role(package, role), f"{package} has no {role}.py"


SQL_BUILDERS = {"select", "update", "delete", "insert"}
SESSION_QUERIES = {"exec", "execute", "get", "scalar", "scalars"}
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route"}


def _queries(tree: ast.AST) -> set[int]:
    """Lines that build SQL (`select(...)`, `update(...)`, ...) or run it on a session."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        builds = isinstance(func, ast.Name) and func.id in SQL_BUILDERS
        runs = (
            isinstance(func, ast.Attribute)
            and func.attr in SESSION_QUERIES
            and isinstance(func.value, ast.Name)
            and "session" in func.value.id
        )
        if builds or runs:
            found.add(node.lineno)
    return found


def _routes(tree: ast.AST) -> set[int]:
    """Lines of route declarations: `APIRouter(...)` and `@router.<method>(...)` decorators."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "APIRouter":
            found.add(node.lineno)
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            found |= {
                decorator.lineno
                for decorator in node.decorator_list
                if isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in ROUTE_DECORATORS
                and isinstance(decorator.func.value, ast.Name)
            }
    return found


def _in_role(path: Path, role: str) -> bool:
    return path.stem == role or role in path.parts[:-1]


def test_queries_only_in_repositories_and_routes_only_in_api_modules() -> None:
    """A route parses, calls the service and presents; every query lives in a repository
    (migration environments and kit's own plumbing aside)."""
    misplaced = []
    for path in _modules():
        if path.parts[0] != "services" or "migrations" in path.parts:
            continue
        tree = ast.parse((ROOT / path).read_text("utf-8"))
        if not _in_role(path, "repository"):
            misplaced += [f"{path}:{line} queries" for line in sorted(_queries(tree))]
        if not _in_role(path, "api"):
            misplaced += [f"{path}:{line} declares a route" for line in sorted(_routes(tree))]
    assert not misplaced, "\n".join(misplaced)


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path): lines
        for path in _modules()
        if (lines := len((ROOT / path).read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_kit_names_no_service_route_or_table() -> None:
    """kit/ is generic plumbing: service URLs, paths and column names are passed in by services.
    The platform's role vocabulary stays beside authentication (kit/auth.py). Platform routes
    every process serves (`/v1/me`, `/healthz`) are not a domain, and neither are the xAPI
    standard's words (statement, LRS); "reflection" is not searched for, since SQLAlchemy uses
    the word for reading a schema."""
    domain = re.compile(
        r"\b(ideas?|analytics|journal|author_id|actor_id|lrs_client)\b|/xapi\b", re.IGNORECASE
    )
    found = []
    for path in sorted((ROOT / "kit").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative == "kit/auth.py":
            continue  # the role vocabulary (`lrs-client`, ...) stays beside authentication
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if match := domain.search(line):
                found.append(f"{relative}:{number}: {match.group(0)}")
    assert not found, "kit/ names the domain:\n" + "\n".join(found)


def _public(nodes: list[ast.stmt], prefix: str) -> list[tuple[str, ast.AST]]:
    found: list[tuple[str, ast.AST]] = []
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name.startswith("_"):
                continue
            found.append((f"{prefix}{node.name}", node))
            if isinstance(node, ast.ClassDef):
                found.extend(_public(node.body, f"{prefix}{node.name}."))
    return found


def test_every_public_function_and_class_has_a_docstring() -> None:
    undocumented = []
    for path in _modules():
        tree = ast.parse((ROOT / path).read_text("utf-8"))
        for name, node in _public(tree.body, ""):
            assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if not ast.get_docstring(node):
                undocumented.append(f"{path}:{node.lineno} {name}")
    assert not undocumented, f"{len(undocumented)} without a docstring:\n" + "\n".join(undocumented)
