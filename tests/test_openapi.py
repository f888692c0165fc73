"""The OpenAPI document covers every REST route and stays in step with the code."""
from app.openapi import build_spec


def test_every_rest_route_is_in_the_document(app):
    spec = build_spec(app)
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or getattr(rule, "websocket", False):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {rule.rule} is missing from the spec"


def test_operations_have_summaries_and_job_bodies_have_schemas(app):
    spec = build_spec(app)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["summary"] != "", (method, path)
    mask = spec["paths"]["/api/video-apply-mask/{video_id}/"]["post"]
    assert mask["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MaskJob"}
    assert "202" in mask["responses"] and "400" in mask["responses"]
    assert "MaskJob" in spec["components"]["schemas"] and "Region" in spec["components"]["schemas"]


def test_document_and_docs_page_are_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.json["openapi"] == "3.0.3"
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"/api/task-status/{task_id}/" in page.data
