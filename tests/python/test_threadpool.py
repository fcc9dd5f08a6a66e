"""pel and threadpoolctl (issue 13 item 6): with Debian's threadpoolctl 3.1
(no registration API) threadpool_limits reaches pel through OpenMP while
pel's own setting is the default; pel.thread_limit is pel's context manager.
With threadpoolctl 3.2+ pel registers a controller."""

import threading


import pel

try:
    import threadpoolctl
except ImportError:  # the CI installs python3-threadpoolctl; without it only pel's part runs
    threadpoolctl = None


def test_thread_limit(threads):
    before = pel.get_num_threads_local()
    with pel.thread_limit(1):
        assert pel.get_num_threads() == 1
        seen = []
        t = threading.Thread(target=lambda: seen.append(pel.get_num_threads_local()))
        t.start()
        t.join()
        assert seen == [0]  # the calling thread only
    assert pel.get_num_threads_local() == before


def test_threadpoolctl_limits_pel(threads):
    if threadpoolctl is None:
        assert pel.THREADPOOLCTL_REGISTERED is False
        return
    pel.set_num_threads(0)
    if pel.THREADPOOLCTL_REGISTERED:
        apis = {d["user_api"] for d in threadpoolctl.threadpool_info()}
        assert "pel" in apis
        with threadpoolctl.threadpool_limits(1, user_api="pel"):
            assert pel.get_num_threads() == 1
    else:
        assert not hasattr(threadpoolctl, "register")  # 3.1: no registration API
    with threadpoolctl.threadpool_limits(1):
        assert pel.get_num_threads() == 1
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert pel.get_num_threads() == 1
    # An explicit pel setting wins over OpenMP's limit (documented).
    pel.set_num_threads(2)
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert pel.get_num_threads() == 2
