"""The production settings in one place (service/core/settings.py): server, workers, pool, log
level and the principal cache, read from the environment with defaults for a small machine."""

from __future__ import annotations

import base64

import pytest

from service.core.settings import default_workers, load_settings

KEYS = {
    "HUINONG_SECRET_KEY": base64.urlsafe_b64encode(b"s" * 32).decode(),
    "HUINONG_DATA_KEY": base64.urlsafe_b64encode(b"d" * 32).decode(),
}


def test_defaults_serve_with_granian_one_worker_a_core_at_most_four():
    settings = load_settings(KEYS)
    assert settings.server == "granian"
    assert settings.workers == default_workers() and 1 <= settings.workers <= 4
    assert (settings.pool_min_size, settings.pool_max_size) == (2, 10)
    assert settings.backpressure == 20  # a worker takes two requests at once a connection it has
    assert settings.log_level == "info"
    assert settings.principal_cache_seconds == 5.0


def test_a_province_sets_its_own_sizes():
    settings = load_settings(
        {
            **KEYS,
            "HUINONG_SERVER": "uvicorn",
            "HUINONG_WORKERS": "8",
            "HUINONG_POOL_SIZE": "6",
            "HUINONG_LOG_LEVEL": "WARNING",
            "HUINONG_AUTH_CACHE_SECONDS": "0",
        }
    )
    assert (settings.server, settings.workers, settings.pool_max_size) == ("uvicorn", 8, 6)
    assert settings.backpressure == 12
    assert settings.log_level == "warning"
    assert settings.principal_cache_seconds == 0  # every request reads who asks from the database


def test_backpressure_may_be_set_apart_from_the_pool():
    assert load_settings({**KEYS, "HUINONG_POOL_SIZE": "4", "HUINONG_BACKPRESSURE": "16"}).backpressure == 16


def test_a_pool_of_one_connection_starts_with_one():
    assert load_settings({**KEYS, "HUINONG_POOL_SIZE": "1"}).pool_min_size == 1


def test_an_unknown_server_is_refused_at_start():
    with pytest.raises(ValueError, match="HUINONG_SERVER"):
        load_settings({**KEYS, "HUINONG_SERVER": "gunicorn"})


def test_a_movable_clock_is_served_by_one_process_so_every_request_sees_it_moved():
    assert load_settings({**KEYS, "HUINONG_TEST_CLOCK": "1", "HUINONG_WORKERS": "4"}).workers == 1
