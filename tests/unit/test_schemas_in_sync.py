"""The committed JSON Schemas are exactly what the pydantic models generate."""

from schemas.export import SCHEMA_DIR, render


def test_json_schemas_match_models():
    rendered = render()
    on_disk = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.schema.json")}
    assert set(on_disk) == set(rendered), "run: python -m schemas.export"
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{name} is stale; run: python -m schemas.export"
