"""Videos: streamed upload with validation, listing, deletion, playback with Range."""
from __future__ import annotations

import io

import pytest

from tests.motion.videogen import make_video


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("v") / "stamped.mp4", frames=30)


def upload(client, path, name=None):
    with open(path, "rb") as f:
        return client.post("/api/videos/", data={"file": (f, name or path.name)}, content_type="multipart/form-data")


def test_upload_answers_201_with_the_videos_facts(client, small_clip):
    response = upload(client, small_clip)
    assert response.status_code == 201
    body = response.json
    assert {"id", "filename", "frames", "fps", "width", "height", "duration", "size_bytes", "source_id",
            "created_at"} <= set(body)
    assert (body["frames"], body["width"], body["height"], body["fps"]) == (30, 160, 120, 25.0)
    assert body["duration"] == pytest.approx(1.2)
    assert body["size_bytes"] == small_clip.stat().st_size and body["source_id"] is None
    assert client.get(f"/api/videos/{body['id']}/").json["filename"] == "stamped.mp4"


def test_not_a_video_is_a_400_and_leaves_no_file(client, config):
    incoming = config.effective_media_root / "incoming"
    before = set(incoming.glob("*")) if incoming.exists() else set()
    response = client.post("/api/videos/", data={"file": (io.BytesIO(b"hello, not a video" * 1000), "notes.mp4")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "not_a_video" and "notes.mp4" in response.json["error"]["message"]
    assert set(incoming.glob("*")) == before


def test_missing_file_field_says_which_field(client):
    response = client.post("/api/videos/", data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400 and "file" in response.json["error"]["fields"]


def test_upload_past_the_size_cap_is_413(app, small_clip, admin_token):
    from dataclasses import replace

    from app import create_app

    tiny = create_app(replace(app.config["POSEQUEUE"], max_upload_bytes=1000))
    tiny_client = tiny.test_client()
    tiny_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token}"
    response = upload(tiny_client, small_clip)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


def test_file_supports_range_requests_for_seeking(client, small_clip):
    video_id = upload(client, small_clip).json["id"]
    whole = client.get(f"/api/videos/{video_id}/file")
    assert whole.status_code == 200 and whole.data == small_clip.read_bytes()
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.mimetype == "video/mp4"
    part = client.get(f"/api/videos/{video_id}/file", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == small_clip.read_bytes()[100:200]
    assert part.headers["Content-Range"].startswith("bytes 100-199/")


def test_delete_removes_record_and_file(client, small_clip, config):
    video_id = upload(client, small_clip).json["id"]
    before = len(list((config.effective_media_root / "videos").glob("*")))
    assert client.delete(f"/api/videos/{video_id}/").status_code == 204
    assert client.get(f"/api/videos/{video_id}/").status_code == 404
    assert len(list((config.effective_media_root / "videos").glob("*"))) == before - 1


def test_list_shows_newest_first(client, small_clip):
    first = upload(client, small_clip).json["id"]
    second = upload(client, small_clip).json["id"]
    ids = [v["id"] for v in client.get("/api/videos/").json["items"]]
    assert ids.index(second) < ids.index(first)


def test_unknown_video_is_404_everywhere(client):
    for path in ("/api/videos/999999/", "/api/videos/999999/file"):
        assert client.get(path).status_code == 404
    assert client.post("/api/video-apply-mask/999999/", json={"faces": True}).status_code == 404
