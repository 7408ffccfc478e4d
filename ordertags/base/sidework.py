"""The threads a run does its side-by-side work on: one pool, owned by the run.

Arrow and numpy kernels release the GIL, so a run gets a second core working by handing
work that does not depend on the next step to a thread: the conditions of the next
rules while this rule acts, the money and dates customer conditions will ask for, where
a big export's records are, the next batch of a big export while this one is written,
the mailing lists while the exports are written. A run makes one :class:`SideWork` and
hands it to each of those (``side=``); a function called on its own, without one, makes
its own for the call (:func:`side_work`).

Only the run's own thread waits for what it handed over (never a task for another
task), so the pool cannot deadlock whatever its size.

>>> with SideWork() as side:
...     side.submit(sum, [1, 2, 3]).result()
6
"""

from __future__ import annotations

import collections
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Threads of a run's pool: enough for every kind of side work at once (a look-ahead,
#: a scan, a read-ahead, a list), and for rendering batches on every core.
WORKERS = max(4, min(8, os.cpu_count() or 1))


class SideWork:
    """A run's pool of threads (a context manager: closed, waiting for its work, at
    the end of the ``with``)."""

    def __init__(self, workers: int = WORKERS, name: str = "ordertags") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def submit(self, fn: Callable[..., R], /, *args: Any) -> Future[R]:
        """Run ``fn(*args)`` beside the caller."""
        return self._pool.submit(fn, *args)

    def map(self, fn: Callable[[T], R], items: Iterable[T], at_once: int) -> Iterator[R]:
        """``fn`` of each item, in order, worked out side by side: at most ``at_once``
        handed over, ``at_once - 1`` of them while the caller uses a result (about one
        a core: more would only share the cores, and hold more results)."""
        pending: collections.deque[Future[R]] = collections.deque()
        try:
            for item in items:
                pending.append(self._pool.submit(fn, item))
                if len(pending) >= at_once:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def read_ahead(self, items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
        """``items``, made up to ``depth`` ahead of their use on a thread of the pool
        (the next batch is parsed while this one is written). Their errors come out
        here, where the item would have; a reader that stops early lets the thread go."""
        ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
        stop = threading.Event()
        done = object()

        def offer(item: Any) -> bool:
            """Queue ``item``; False once the reader has stopped."""
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def pump() -> None:
            try:
                for item in items:
                    if not offer(item):
                        return
                offer(done)
            except BaseException as exc:  # handed to the reader, raised there
                offer(_Failed(exc))

        worker = self.submit(pump)
        try:
            while True:
                item = ready.get()
                if item is done:
                    return
                if isinstance(item, _Failed):
                    raise item.exc
                yield item
        finally:
            stop.set()
            worker.result()

    def lane(self) -> Lane:
        """A lane of this pool: what is handed to it runs one at a time, in order."""
        return Lane(self)

    def close(self, wait: bool = True) -> None:
        """No more work; with ``wait``, once what was handed over is done."""
        self._pool.shutdown(wait=wait)

    def __enter__(self) -> SideWork:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Lane:
    """Work run one item at a time, in the order handed over, on a thread of the pool
    (the look-ahead of conditions: one evaluation beside the run's own, as the frame's
    caches are filled by one thread at a time). Nothing waits on the pool for it: a
    thread drains the lane while it has work, then lets go."""

    def __init__(self, side: SideWork) -> None:
        self.side = side
        self._items: collections.deque[tuple[Future[Any], Callable[[], Any]]] = collections.deque()
        self._lock = threading.Lock()
        self._draining = False

    def submit(self, fn: Callable[..., R], /, *args: Any) -> Future[R]:
        """Run ``fn(*args)`` after what was handed to the lane before."""
        future: Future[R] = Future()
        with self._lock:
            self._items.append((future, lambda: fn(*args)))
            start = not self._draining
            self._draining = True
        if start:
            self.side.submit(self._drain)
        return future

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._items:
                    self._draining = False
                    return
                future, call = self._items.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to whoever waits for it
                future.set_exception(exc)


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


@contextmanager
def side_work(side: SideWork | None, workers: int = WORKERS) -> Iterator[SideWork]:
    """``side`` (a run's pool), or, for a call made on its own, a pool of ``workers``
    for the call, closed at its end."""
    if side is not None:
        yield side
        return
    with SideWork(workers) as own:
        yield own
