"""`python -m gateway.sdl` prints the schema as SDL; `make schema` writes gateway/schema.graphql."""

from gateway.schema import build_schema


def sdl() -> str:
    return build_schema(production=False).as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
