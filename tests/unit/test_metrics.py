"""The Prometheus text of /metrics: counters by route and status, cumulative latency buckets."""

from service.core.metrics import Metrics, render


def test_counts_and_cumulative_buckets_by_route_template():
    m = Metrics()
    for seconds, status in ((0.003, 200), (0.2, 200), (3.0, 422), (500.0, 200)):
        m.started("POST", "/payment-batches")
        m.finished("POST", "/payment-batches", status, seconds)
    m.started("POST", '/odd"route')  # a request still running
    text = render(m, [("huinong_db_pool_in_use", "Connections lent out.", 3)])
    lines = text.splitlines()
    assert 'huinong_requests_total{method="POST",route="/payment-batches",status="200"} 3' in lines
    assert 'huinong_requests_total{method="POST",route="/payment-batches",status="422"} 1' in lines
    bucket = 'huinong_request_duration_seconds_bucket{method="POST",route="/payment-batches",le="%s"} %d'
    assert bucket % ("0.005", 1) in lines
    assert bucket % ("0.25", 2) in lines
    assert bucket % ("5.0", 3) in lines
    assert bucket % ("120.0", 3) in lines and bucket % ("+Inf", 4) in lines
    assert 'huinong_request_duration_seconds_count{method="POST",route="/payment-batches"} 4' in lines
    assert 'huinong_requests_in_flight{method="POST",route="/payment-batches"} 0' in lines
    assert 'huinong_requests_in_flight{method="POST",route="/odd\\"route"} 1' in lines
    assert "# TYPE huinong_db_pool_in_use gauge" in lines and "huinong_db_pool_in_use 3" in lines
    assert text.endswith("\n")
