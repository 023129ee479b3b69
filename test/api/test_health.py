"""GET /healthz and GET /metrics: liveness, and Prometheus counters of requests by route and status plus a latency
histogram, which must move when requests are made."""
import re
import time

import requests

from conftest import HTTP_TIMEOUT, assert_error

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float)] for every sample line of a Prometheus text exposition."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = LINE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = dict(LABEL.findall(m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def scrape(city):
    r = requests.get(city.url("/metrics"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers.get("Content-Type")
    return parse_metrics(r.text)


def requests_total(city, path, status):
    """suishen_http_requests_total summed over the series whose route names `path` and whose status is `status`."""
    total = 0.0
    for name, labels, value in scrape(city):
        if name != "suishen_http_requests_total":
            continue
        if labels.get("status") == str(status) and any(v.split()[-1] == path for v in labels.values()):
            total += value
    return total


def wait_for_count(city, path, status, want):
    """Polls the counter until it reaches `want` (a request is counted when it completes, maybe after its answer);
    returns the value then seen."""
    deadline = time.monotonic() + 5
    while True:
        v = requests_total(city, path, status)
        if v >= want or time.monotonic() > deadline:
            return v
        time.sleep(0.02)


def test_healthz(city):
    r = requests.get(city.url("/healthz"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == {"status": "ok"}


def test_metrics_counts_requests_by_route_and_status(city):
    before = requests_total(city, "/healthz", 200)
    for _ in range(3):
        assert requests.get(city.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200
    after = wait_for_count(city, "/healthz", 200, before + 3)
    assert after == before + 3


def test_metrics_counts_errors_under_their_status(city):
    before_401 = requests_total(city, "/v1/me", 401)
    before_200 = requests_total(city, "/v1/me", 200)
    assert_error(city.get("/v1/me"), 401, "unauthenticated")
    assert wait_for_count(city, "/v1/me", 401, before_401 + 1) == before_401 + 1
    assert requests_total(city, "/v1/me", 200) == before_200


def test_metrics_has_latency_histogram(city):
    assert requests.get(city.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200
    wait_for_count(city, "/healthz", 200, 1)
    samples = scrape(city)
    buckets = [(labels, v) for name, labels, v in samples if name == "suishen_http_request_duration_seconds_bucket"]
    assert buckets, "no suishen_http_request_duration_seconds_bucket samples"
    assert all("le" in labels for labels, _ in buckets)
    # The series of GET /healthz: cumulative buckets ending in +Inf, which counts every request so far.
    series = {}
    for labels, v in buckets:
        if any(val.split()[-1] == "/healthz" for k, val in labels.items() if k != "le"):
            series[labels["le"]] = v
    assert "+Inf" in series, f"no +Inf bucket for /healthz: {sorted(series)}"
    finite = sorted((float(le), v) for le, v in series.items() if le != "+Inf")
    counts = [v for _, v in finite] + [series["+Inf"]]
    assert counts == sorted(counts), f"buckets are not cumulative: {finite}"
    assert series["+Inf"] >= 1


def test_stopping_under_load_answers_or_refuses_and_exits_0(bare_city):
    """SIGTERM while clients keep opening connections: each request is answered 200 (it began before the stop) or
    503 `unavailable` (after it), and the server exits 0, every time. (libmicrohttpd's quiescing of the listening
    socket races with its own epoll threads and aborted the process once in a CI run; the server no longer quiesces.
    The race itself is too rare to reproduce here: this checks the behaviour that replaced it.)"""
    import signal
    import threading
    city = bare_city
    for _ in range(8):
        city.start()
        url = city.url("/healthz")
        statuses, stop = [], threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    statuses.append(requests.get(url, timeout=HTTP_TIMEOUT, headers={"Connection": "close"}).status_code)
                except requests.RequestException:
                    if not city.running:
                        return
        threads = [threading.Thread(target=hammer) for _ in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(statuses) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        city.proc.send_signal(signal.SIGTERM)
        rc = city.proc.wait(timeout=20)
        stop.set()
        for t in threads:
            t.join()
        city.proc = None
        assert rc == 0, f"exited {rc}: {city.log_tail()}"
        assert statuses and set(statuses) <= {200, 503}, set(statuses)


def test_a_request_begun_after_sigterm_is_answered_503_and_the_begun_one_finishes(bare_city):
    """A request in flight (its body half sent) keeps the server draining after SIGTERM; meanwhile a new request is
    answered 503 `unavailable` with Connection: close, and once the first one's body is complete it is answered as
    usual (400 here: a body that is no registration) and the server exits 0."""
    import signal
    import socket
    city = bare_city
    city.start()
    body = b'{"name":"' + b"x" * 40 + b'"}'
    half = socket.create_connection(("127.0.0.1", city.port), timeout=HTTP_TIMEOUT)
    try:
        half.sendall(b"POST /v1/citizens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        # "100 Continue" says the server has read the headers: the request has begun before the signal
        assert half.recv(4096).startswith(b"HTTP/1.1 100"), "no 100 Continue"
        half.sendall(body[:10])
        city.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:  # the server keeps answering while it drains; poll until it refuses
            r = requests.get(city.url("/healthz"), timeout=HTTP_TIMEOUT)
            if r.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert_error(r, 503, "unavailable")
        assert "stopping" in r.json()["error"]["message"]
        assert r.headers.get("Connection", "").lower() == "close", r.headers
        assert city.proc.poll() is None, "the server left before the request in flight was answered"
        half.sendall(body[10:])
        answer = half.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"Connection: close" in answer, answer[:400]
    finally:
        half.close()
    assert city.proc.wait(timeout=20) == 0, city.log_tail()
    city.proc = None
