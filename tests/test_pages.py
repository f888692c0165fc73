"""The pages and their static files are served by the app (no build step, nothing from a CDN)."""
import re

import pytest


@pytest.mark.parametrize("path, script", [("/tasks", "tasks.js"), ("/videos", "videos.js"), ("/wall", "wall.js"),
                                          ("/wall/0b6f3c2a", "wall.js"), ("/workout", "workout.js")])
def test_each_page_is_html_with_its_own_script(client, path, script):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'src="/static/pages/js/{script}"' in html and 'name="viewport"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from outside


def test_home_is_the_tasks_dashboard(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")


def test_static_files_and_their_imports_are_served(client):
    for name in ("client.js", "taskwatch.js", "tasks.js", "videos.js", "wall.js", "workout.js"):
        source = client.get(f"/static/pages/js/{name}")
        assert source.status_code == 200, name
        for imported in re.findall(r'from "\./([\w.]+)"', source.get_data(as_text=True)):
            assert client.get(f"/static/pages/js/{imported}").status_code == 200, (name, imported)
    assert client.get("/static/pages/css/pages.css").status_code == 200


def test_the_wall_page_knows_its_session(client):
    assert 'data-session-id="0b6f3c2a"' in client.get("/wall/0b6f3c2a").get_data(as_text=True)
