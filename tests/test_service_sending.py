"""The worker's messages onto the pipe (engine/service/sending.py): sent by the emitting
thread while the socket has room and nothing is queued before them, else queued for the
sender thread — never out of order, never interleaved, never lost, never blocking the
emitting thread on a full pipe."""
from __future__ import annotations

import os
import socket
import sys
import threading
from multiprocessing.connection import Connection

import pytest

from layerlab.engine.service.outbox import Outbox
from layerlab.engine.service.protocol import Event, Reply
from layerlab.engine.service.sending import PipeSender, room_probe

linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                           reason="the socket's unread bytes are asked of Linux only")


def ev(payload, kind: str = "batch") -> Event:
    return Event(kind, payload, 1)


class Recorder:
    """A Connection stand-in: what was written, and from which thread."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list]] = []

    def send_bytes(self, payload: bytes) -> None:
        import pickle
        self.sent.append((threading.current_thread().name, pickle.loads(payload)))

    def send(self, items: list) -> None:
        self.sent.append((threading.current_thread().name, list(items)))


def payloads(recorder: Recorder) -> list:
    return [m.payload for _thread, items in recorder.sent for m in items]


@pytest.fixture
def connected():
    """(writer, reader): the two ends of a socket, as the worker and the app hold them."""
    a, b = socket.socketpair()
    writer, reader = Connection(os.dup(a.fileno())), Connection(os.dup(b.fileno()))
    a.close()
    b.close()
    yield writer, reader
    writer.close()
    reader.close()


def started(pipe: PipeSender) -> threading.Thread:
    """``pipe``'s sender thread, running."""
    sender = threading.Thread(target=pipe.run, name="sender")
    sender.start()
    return sender


def test_with_room_the_emitting_thread_sends_at_once_and_nothing_queues():
    conn, box = Recorder(), Outbox()
    pipe = PipeSender(conn, box, fits=lambda nbytes: True)
    pipe.put(ev(1))
    pipe.put(ev(2))
    assert conn.sent == [(threading.current_thread().name, [ev(1)]),
                         (threading.current_thread().name, [ev(2)])]
    assert len(box) == 0                            # the sender thread has nothing to wake for


def test_without_room_messages_queue_and_later_ones_never_overtake_them():
    conn, box = Recorder(), Outbox()
    room = {"ok": False}
    pipe = PipeSender(conn, box, fits=lambda nbytes: room["ok"])
    pipe.put(ev(1))
    room["ok"] = True
    pipe.put(ev(2))                                 # room again, but 1 still waits: behind it
    assert conn.sent == [] and [m.payload for m in box.take()] == [1, 2]


def test_where_room_cannot_be_known_everything_goes_through_the_sender_thread():
    conn, box = Recorder(), Outbox()
    pipe = PipeSender(conn, box, fits=None)
    pipe.put(ev(1))
    assert conn.sent == [] and len(box) == 1


def test_a_message_that_cannot_be_pickled_is_sent_as_a_failed_event_in_its_place(caplog):
    conn, box = Recorder(), Outbox()
    pipe = PipeSender(conn, box, fits=lambda nbytes: True)
    pipe.put(ev([0.5] * 100_000 + [lambda: None], kind="visuals"))   # not plain data: a bug
    pipe.put(ev(2))
    (_, [failed]), (_, [after]) = conn.sent
    assert failed.kind == "failed" and failed.generation == 1
    title, text = failed.payload
    assert "'visuals'" in text and "pickle" in text and "bug" in text
    assert after == ev(2) and len(box) == 0         # and what follows still goes out
    # The worker's log names the message, not its (here 100,000 numbers') payload.
    [record] = [r for r in caplog.records if r.name.endswith("sending")]
    assert "'visuals'" in record.getMessage() and len(record.getMessage()) < 100


def test_the_sender_thread_survives_a_message_that_cannot_be_pickled(connected):
    # Queued (no room), the bad message used to end the sender thread: every later message
    # then waited for ever, and the window with them.
    writer, reader = connected
    box = Outbox()
    pipe = PipeSender(writer, box, fits=None)
    sender = started(pipe)
    try:
        pipe.put(ev(1))
        pipe.put(ev(threading.Lock(), kind="epoch"))
        pipe.put(Reply(7, "predict", "predictions", value=threading.Lock(), generation=1))
        pipe.put(ev(2))
        got = []
        while len(got) < 4 and reader.poll(5):
            got.extend(reader.recv())
        assert [m.payload for m in got if isinstance(m, Event) and m.kind == "batch"] == [1, 2]
        failed = next(m for m in got if isinstance(m, Event) and m.kind == "failed")
        assert "'epoch'" in failed.payload[1] and "TypeError" in failed.payload[1]
        reply = next(m for m in got if isinstance(m, Reply))
        assert (reply.id, reply.name, reply.value) == (7, "predict", None)
        assert "could not send its answer" in reply.error    # its caller is not left waiting
        assert sender.is_alive()
    finally:
        box.close()
        sender.join(5)


def test_the_sender_thread_sends_what_queued_in_order_and_ends_when_closed():
    conn, box = Recorder(), Outbox()
    pipe = PipeSender(conn, box, fits=None)
    sender = started(pipe)
    for i in range(50):
        pipe.put(ev(i))
    box.close()
    sender.join(5)
    assert not sender.is_alive()
    assert payloads(conn) == list(range(50))
    assert {thread for thread, _ in conn.sent} == {"sender"}


def test_two_emitting_threads_and_the_sender_lose_nothing_and_keep_each_threads_order():
    conn, box = Recorder(), Outbox()
    flip = iter(range(10**9))
    pipe = PipeSender(conn, box, fits=lambda nbytes: next(flip) % 50 != 0)  # room comes, goes
    sender = started(pipe)

    def emit(tag: str) -> None:
        for i in range(3000):
            pipe.put(ev((tag, i)))
    threads = [threading.Thread(target=emit, args=(tag,)) for tag in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    box.close()
    sender.join(5)
    seen = payloads(conn)
    for tag in "ab":
        assert [i for t, i in seen if t == tag] == list(range(3000))


@linux
def test_room_is_the_sockets_unread_bytes_against_its_buffer():
    a, b = socket.socketpair()
    try:
        conn = Connection(os.dup(a.fileno()))
        fits = room_probe(conn)
        assert fits is not None and fits(1000)
        a.setblocking(False)
        try:
            while True:                             # the reader reads nothing: fill it up
                a.send(b"x" * 4096)
        except BlockingIOError:
            pass
        assert not fits(1000)                       # would block: queue instead
        b.setblocking(False)
        try:
            while b.recv(1 << 20):
                pass
        except BlockingIOError:                     # all read
            pass
        assert fits(1000)                           # room again
        conn.close()
    finally:
        a.close()
        b.close()


@linux
def test_a_direct_send_reads_back_as_the_same_list_as_a_queued_one(connected):
    writer, reader = connected
    box = Outbox()
    pipe = PipeSender(writer, box, room_probe(writer))
    pipe.put(ev("direct"))
    assert len(box) == 0
    assert reader.recv() == [ev("direct")]


def test_not_a_socket_no_room_check():
    r, w = os.pipe()
    conn = Connection(w)
    try:
        assert room_probe(conn) is None
    finally:
        conn.close()
        os.close(r)


def test_outbox_wait_says_whether_something_waits():
    box = Outbox()
    assert box.wait(0.01) is False                  # nothing came
    box.put(ev(1))
    assert box.wait(0.01) is True and len(box) == 1  # waiting does not take
    box.take()
    box.close()
    assert box.wait() is False                      # closed and empty: the sender ends


def test_a_stray_tensor_in_a_message_is_left_as_it_was():
    # Messages are plain data; a tensor in one is a bug the app refuses on arrival. On the
    # way it must not touch the tensor: multiprocessing's pickler, with torch's reducers,
    # moved its storage (the live weights') into shared memory to send a handle to it.
    torch = pytest.importorskip("torch")
    from layerlab.engine.service.sending import pickled
    weights = torch.zeros(3)
    pickled([ev(weights)])
    assert not weights.is_shared()
