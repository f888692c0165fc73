"""The configuration object: strict parsing, safe logging."""
import pytest

from config import Config, ConfigError


def test_defaults_need_no_environment():
    config = Config.from_env({})
    assert config.redis_url is None and config.database_url is None
    assert config.port == 8000 and config.task_time_limit == 3600 and config.task_max_retries == 3
    assert config.effective_database_url.startswith("sqlite:///") and config.effective_redis_url.startswith("unix://")


def test_values_are_read_from_the_environment():
    config = Config.from_env({"REDIS_URL": "redis://h:6379/2", "PORT": "9000", "SYNC_FALLBACK": "yes",
                              "TASK_TIME_LIMIT": "60", "PROGRESS_DB_INTERVAL": "2.5", "LOG_LEVEL": "debug"})
    assert (config.redis_url, config.port, config.sync_fallback) == ("redis://h:6379/2", 9000, True)
    assert (config.task_time_limit, config.progress_db_interval, config.log_level) == (60, 2.5, "DEBUG")


def test_workout_settings_have_seed_defaults_and_read_the_environment():
    assert (Config.from_env({}).workout_analyse_every, Config.from_env({}).workout_model_path) == (2, None)
    config = Config.from_env({"WORKOUT_ANALYSE_EVERY": "3", "WORKOUT_MAX_FRAME_BYTES": "500000",
                              "WORKOUT_MODEL_PATH": "/models/gym.onnx", "WORKOUT_TRACKERS": "0"})
    assert (config.workout_analyse_every, config.workout_max_frame_bytes, config.workout_trackers) == (3, 500000, 0)
    assert config.workout_model_path.name == "gym.onnx"


@pytest.mark.parametrize("env, named", [
    ({"PORT": "eighty"}, "PORT"),
    ({"PORT": "0"}, "PORT"),
    ({"TASK_TIME_LIMIT": "-5"}, "TASK_TIME_LIMIT"),
    ({"SYNC_FALLBACK": "maybe"}, "SYNC_FALLBACK"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
    ({"REDIS_URL": "amqp://guest@localhost"}, "REDIS_URL"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"WORKOUT_ANALYSE_EVERY": "0"}, "WORKOUT_ANALYSE_EVERY"),
    ({"WORKOUT_MAX_FRAME_BYTES": "lots"}, "WORKOUT_MAX_FRAME_BYTES"),
])
def test_bad_values_fail_at_start_up_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        Config.from_env(env)


def test_public_dict_hides_passwords():
    config = Config.from_env({"DATABASE_URL": "postgresql://app:s3cret@db:5432/pq"})
    assert "s3cret" not in str(config.public_dict())
    assert config.public_dict()["database_url"] == "postgresql://app:***@db:5432/pq"
