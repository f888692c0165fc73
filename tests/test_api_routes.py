"""/api/routes/: routes in the earlier system's format, validated against their wall."""
from __future__ import annotations

from tests.climbing_support import DATA, REAL_SVG, load_json, SEED_ROUTE, SMALL_ROUTE, make_route, needs_real_data, upload_wall


def test_a_route_round_trips_in_the_seed_format(client):
    wall = upload_wall(client).json
    route = make_route(client, wall["id"])
    assert {k: route[k] for k in ("grade", "author", "problem")} == SMALL_ROUTE
    assert route["wall_id"] == wall["id"] and route["created_at"].endswith("Z")
    assert client.get(f"/api/routes/{route['id']}/").json == route


def test_the_earlier_systems_route_loads_on_the_real_wall_with_bare_numbers(client):
    needs_real_data()
    wall = upload_wall(client, REAL_SVG.read_bytes(), "projectclimb").json
    recorded = load_json(DATA / "route_session.json")
    route = make_route(client, wall["id"], recorded, "Recorded")
    assert route["problem"] == recorded["problem"] and route["grade"] == recorded["grade"]


def test_the_seed_000_route_names_three_holds_the_real_wall_lacks(client):
    needs_real_data()
    wall = upload_wall(client, REAL_SVG.read_bytes(), "projectclimb").json
    response = client.post("/api/routes/", json={"wall_id": wall["id"], "name": "Seed 000", **SEED_ROUTE})
    assert response.status_code == 400 and response.json["error"]["unknown_holds"] == ["91", "89", "72"]


def test_unknown_hold_ids_are_a_400_listing_each_once(client):
    wall = upload_wall(client).json
    body = {"wall_id": wall["id"], "name": "Bad", "problem": {"holds": [
        {"id": "1", "type": "start"}, {"id": "77", "type": "normal"}, {"id": "nope", "type": "finish"},
        {"id": "77", "type": "normal"}]}}
    response = client.post("/api/routes/", json=body)
    assert response.status_code == 400
    assert response.json["error"]["unknown_holds"] == ["77", "nope"]
    assert "77, nope" in response.json["error"]["fields"]["problem"]["holds"][0]


def test_malformed_routes_get_per_field_messages(client):
    response = client.post("/api/routes/", json={"wall_id": "x", "problem": {"holds": [{"id": "1", "type": "top"}]}})
    fields = response.json["error"]["fields"]
    assert response.status_code == 400
    assert set(fields) == {"wall_id", "name", "problem"} and "type" in str(fields["problem"])
    assert client.post("/api/routes/", json={"wall_id": 999999, "name": "x", "problem": {"holds": [{"id": "1"}]}}
                       ).json["error"]["fields"] == {"wall_id": ["No wall with id 999999."]}
    assert client.post("/api/routes/", json={"wall_id": 1, "name": "x", "problem": {"holds": []}}).status_code == 400


def test_routes_are_listed_by_wall_updated_and_deleted(client):
    wall = upload_wall(client).json
    route = make_route(client, wall["id"])
    listed = client.get(f"/api/routes/?wall_id={wall['id']}").json
    assert [r["id"] for r in listed["items"]] == [route["id"]] and listed["total"] == 1
    changed = client.patch(f"/api/routes/{route['id']}/", json={"grade": "7a"}).json
    assert changed["grade"] == "7a" and changed["problem"] == route["problem"]
    replaced = client.put(f"/api/routes/{route['id']}/", json={
        "wall_id": wall["id"], "name": "Renamed", "problem": {"holds": [{"id": "hold_3", "type": "start"}]}})
    assert replaced.status_code == 200 and replaced.json["name"] == "Renamed" and replaced.json["grade"] == ""
    assert client.put(f"/api/routes/{route['id']}/", json={"wall_id": wall["id"], "name": "x",
                                                           "problem": {"holds": [{"id": "99"}]}}).status_code == 400
    assert client.delete(f"/api/routes/{route['id']}/").status_code == 204
    assert client.get(f"/api/routes/{route['id']}/").status_code == 404
