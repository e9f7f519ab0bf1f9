import threading
import time

from sagebridge_common.keyed_executor import KeyedExecutor


def test_same_key_runs_in_order_and_never_concurrently():
    ex = KeyedExecutor(max_in_flight=8)
    seen: dict[str, list[int]] = {}
    running: dict[str, int] = {}
    overlap = []
    lock = threading.Lock()

    def task(key: str, i: int):
        def run():
            with lock:
                running[key] = running.get(key, 0) + 1
                if running[key] > 1:
                    overlap.append(key)
            time.sleep(0.001)
            with lock:
                seen.setdefault(key, []).append(i)
                running[key] -= 1
        return run

    for i in range(200):
        key = f"k{i % 5}"
        ex.submit(key, task(key, i))
    assert ex.wait_idle(10)
    assert not overlap
    for key, order in seen.items():
        assert order == sorted(order)
    assert sum(len(v) for v in seen.values()) == 200
    ex.shutdown()


def test_different_keys_run_concurrently_up_to_the_limit():
    ex = KeyedExecutor(max_in_flight=4)
    peak, now = [0], [0]
    lock = threading.Lock()

    def run():
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1

    started = time.monotonic()
    for i in range(16):
        ex.submit(f"key-{i}", run)
    assert ex.wait_idle(10)
    elapsed = time.monotonic() - started
    assert peak[0] == 4
    assert elapsed < 16 * 0.05          # far quicker than one at a time
    ex.shutdown()
