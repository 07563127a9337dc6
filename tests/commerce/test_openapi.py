"""The OpenAPI document is generated from the registered endpoints."""

from openapi_spec_validator import validate


def test_every_api_route_is_documented(app, client):
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule
        for converter in ("<int:", "<"):
            path = path.replace(converter, "{")
        path = path.replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)


def test_schemas_describe_request_bodies(client):
    spec = client.get("/api/openapi.json").get_json()
    product = spec["components"]["schemas"]["ProductIn"]
    assert product["properties"]["price_minor"]["type"] == "integer"
    create = spec["paths"]["/api/v1/products"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ProductIn"
    )
    assert "201" in create["responses"] and "403" in create["responses"]
