"""config.wsgi_threads: WSGI requests on a pool of threads under the ASGI server."""

import threading

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.test import override_settings

from onewindow.config.wsgi_threads import ThreadedWsgi

SCOPE = {"type": "http", "http_version": "1.1", "method": "POST", "path": "/echo", "raw_path": b"/echo",
         "query_string": b"a=1", "root_path": "", "scheme": "http", "headers": [(b"content-type", b"text/plain")],
         "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}


class Recorder:
    """A WSGI application that answers with what it read, and notes the threads it ran on."""

    def __init__(self, streaming: bool = False) -> None:
        self.streaming, self.threads, self.closed_on = streaming, [], None

    def __call__(self, environ, start_response):
        self.threads.append(threading.get_ident())
        received = environ["wsgi.input"].read()
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Query", environ["QUERY_STRING"])])
        return self.Streamed(self, received) if self.streaming else [b"got:", received]

    class Streamed:
        streaming = True

        def __init__(self, recorder, received):
            self.recorder, self.received = recorder, received

        def __iter__(self):
            self.recorder.threads.append(threading.get_ident())
            yield b"got:"
            yield self.received

        def close(self):
            self.recorder.closed_on = threading.get_ident()


@async_to_sync
async def _exchange(app, messages):
    communicator = ApplicationCommunicator(app, SCOPE)
    for message in messages:
        await communicator.send_input(message)
    sent = []
    while True:
        message = await communicator.receive_output(timeout=5)
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            await communicator.wait(timeout=5)  # the request is ended too, not only answered
            return sent


def test_a_body_in_several_messages_reaches_the_application_whole():
    app = ThreadedWsgi(Recorder(), threads=2)
    start, body = _exchange(app, [
        {"type": "http.request", "body": b"hello ", "more_body": True},
        {"type": "http.request", "body": b"world"},
    ])
    assert start == {"type": "http.response.start", "status": 201,
                     "headers": [(b"content-type", b"text/plain"), (b"x-query", b"a=1")]}
    assert body == {"type": "http.response.body", "body": b"got:hello world"}


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_past_the_memory_limit_goes_through_a_file():
    app = ThreadedWsgi(Recorder(), threads=2)
    chunk = b"x" * 1000
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for _ in range(5)]
    _start, body = _exchange(app, [*messages, {"type": "http.request", "body": b"end"}])
    assert body["body"] == b"got:" + chunk * 5 + b"end"


def test_a_streaming_response_goes_out_chunk_by_chunk_from_the_requests_thread():
    recorder = Recorder(streaming=True)
    app = ThreadedWsgi(recorder, threads=4)
    start, *chunks = _exchange(app, [{"type": "http.request", "body": b"file"}])
    assert start["status"] == 201
    assert [(c["body"], c.get("more_body", False)) for c in chunks] == [
        (b"got:", True), (b"file", True), (b"", False)]
    # Read and ended (Django gives the connection back there) on the thread that ran it.
    assert recorder.threads[0] == recorder.threads[1] == recorder.closed_on


def test_what_an_application_writes_comes_before_what_it_returns():
    def writer(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written,")
        return [b"returned"]

    _start, body = _exchange(ThreadedWsgi(writer, threads=1), [{"type": "http.request", "body": b""}])
    assert body["body"] == b"written,returned"


def test_a_client_gone_before_the_body_is_whole_runs_nothing():
    recorder = Recorder()

    @async_to_sync
    async def exchange():
        communicator = ApplicationCommunicator(ThreadedWsgi(recorder, threads=1), SCOPE)
        await communicator.send_input({"type": "http.request", "body": b"part", "more_body": True})
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(timeout=5)

    exchange()
    assert recorder.threads == []
