"""The committed JSON Schemas are exactly what the pydantic models generate."""

from pydantic import BaseModel

from schemas.export import SCHEMA_DIR, render


def test_json_schemas_match_models():
    rendered = render()
    on_disk = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.schema.json")}
    assert set(on_disk) == set(rendered), "run: python -m schemas.export"
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{name} is stale; run: python -m schemas.export"


def test_every_example_in_the_contracts_is_valid():
    """Examples end up in the OpenAPI document; a wrong one would teach integrators wrong."""
    import schemas.activity
    import schemas.admin
    import schemas.badge_class

    checked = 0
    for module in (schemas.activity, schemas.admin, schemas.badge_class):
        for model in vars(module).values():
            if (
                isinstance(model, type)
                and issubclass(model, BaseModel)
                and model.__module__ == module.__name__
            ):
                for example in (model.model_config.get("json_schema_extra") or {}).get("examples", []):
                    model.model_validate(example)
                    checked += 1
    assert checked >= 8
