"""What several tests need and no test module should import from another: free ports, a Chroma
server, an app served on a real port, a stand-in LLM endpoint, documents made on the fly, and a peek
at an ingest in flight."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    """`chroma run` on ``port`` storing under ``path``, once its heartbeat answers (60 s at most)."""
    chroma = Path(sys.executable).parent / "chroma"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma run did not start within 60 s")


@contextmanager
def live_server(app: object) -> Iterator[str]:
    """``app`` under uvicorn on a free port in a background thread; yields its base URL."""
    import uvicorn  # only the tests that serve over a real socket pay for it

    class _ThreadServer(uvicorn.Server):
        def install_signal_handlers(self) -> None:  # signals belong to the main thread
            pass

    port = free_port()
    server = _ThreadServer(uvicorn.Config(app=app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("uvicorn did not start within 60 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class FakeLLM:
    """A local stand-in for an OpenAI-compatible chat endpoint (a remote LLM cannot run here).

    It answers every chat completion with ``reply``, whole or streamed word by word as server-sent
    events, and keeps the requests it got in ``requests``. With ``drop_after`` set, a stream stops
    after that many words and the connection is cut inside its chunked body, as when a model server
    dies part-way through an answer.
    """

    def __init__(self, reply: str, *, drop_after: int | None = None) -> None:
        self.reply = reply
        self.drop_after = drop_after
        self.requests: list[dict] = []  # type: ignore[type-arg]
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth = self.headers.get("Authorization")
                fake.requests.append({"path": self.path, "body": body, "auth": auth})
                if not body.get("stream"):
                    message = {"role": "assistant", "content": fake.reply}
                    payload = json.dumps({"choices": [{"message": message}]})
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload.encode())
                    return
                events = [f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n".encode()
                          for piece in re.findall(r"\S+\s*", fake.reply)]
                if fake.drop_after is None:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for event in events:
                        self.wfile.write(event)
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                # HTTP/1.1 chunked, so the client can tell a cut body from a finished one.
                self.protocol_version = "HTTP/1.1"
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for event in events[:fake.drop_after]:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.close_connection = True  # no closing zero-length chunk: the body is cut short

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def pdf_bytes(*paragraphs: str, password: str | None = None) -> bytes:
    """A real text PDF; the same paragraphs always give the same bytes."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2023, 1, 25, tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for text in paragraphs:
        pdf.multi_cell(0, 6, text)
        pdf.ln(4)
    data = bytes(pdf.output())
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
        writer.encrypt(password)
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return data


def docx_bytes(*paragraphs: str, heading: str | None = None) -> bytes:
    """A real Word document: an optional level-1 heading, then the paragraphs."""
    import docx

    document = docx.Document()
    if heading:
        document.add_heading(heading, 1)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def small_corpus(folder: Path, seeds_dir: Path, count: int, size: int = 2600) -> Path:
    """``count`` distinct short documents cut from the seeds (about three chunks each)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = [p.read_text() for p in sorted(seeds_dir.glob("*.txt"))]
    for i in range(count):
        text = texts[i % len(texts)]
        start = (i * 1700) % max(1, len(text) - size)
        body = text[start: start + size]
        (folder / f"doc{i:03d}.txt").write_text(f"Panel paper {i}\n\n{body}\n\nNote {i}: meeting number {i}.\n")
    return folder


def documents_written(data_dir: Path) -> int:
    """How many documents an ingest (maybe still running, in another process) has committed."""
    db = data_dir / "precedent.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return 0


MODERNGOV_HTML = """<!DOCTYPE html><html><head><title>Agenda item - Precept 2024/25</title></head><body>
<div class="breadcrumb">Home &gt; Your council &gt; Police and Crime Panel</div>
<h1>Agenda item</h1>
<h2>Proposed Precept 2024/25</h2>
<p class="MsoNormal">&nbsp;</p>
<h3>Minutes:</h3>
<p class="MsoNormal">The Panel considered the report of the Police and Crime Commissioner for Dorset on the proposed precept.</p>
<p class="MsoNormal">(a)&nbsp;Members questioned the 4.9% increase and the use of reserves.</p>
<p class="MsoNormal">(b)&nbsp;The Commissioner explained the pressures on 101 call handling.</p>
<p><b>RESOLVED:</b></p>
<p>(1) That the Panel supports the proposed precept.</p>
<h3>Supporting documents:</h3>
<ul><li><a href="/documents/s1234/Precept.pdf">Precept report, item 6. pdf icon PDF 103 KB</a></li></ul>
</body></html>"""


class FakeEmbedder:
    """A deterministic stand-in for the model: each word (lower-cased, crudely stemmed) adds a fixed
    random direction, so texts sharing words are near and others are not. For the fast tier only:
    it needs no torch and loads in no time, and the logic around the model is what those tests check."""

    name = "fake-hashed-words"
    dimension = 384
    encoder = "fake"
    build = ""

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word[:6].encode(), digest_size=8).digest()
                out[row] += np.random.default_rng(int.from_bytes(digest, "little")).standard_normal(self.dimension)
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


# Panel papers with facts in every shape: a failed veto (Dorset 2014), police and fire precepts (Essex 2019),
# two hearings at one meeting (Staffordshire 2021), a veto (Gwent 2018).
SCRUTINY_PAPERS = ("e05_dorset_precept_2014.txt", "e14_essex_precept_2019.docx",
                   "e25_staffordshire_confirmation_2021.pdf", "e27_gwent_precept_2018.txt")


def panel_papers(folder: Path, panels: Path, names: tuple[str, ...] = SCRUTINY_PAPERS) -> Path:
    """``folder`` holding some papers of the panels corpus and their manifest rows, copied at test time."""
    manifest = panels / "manifest.csv"
    if not manifest.exists():
        raise FileNotFoundError(f"panels corpus not found at {panels}: tests need ../shared beside the repository")
    folder.mkdir(parents=True, exist_ok=True)
    lines = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = "".join(line for line in lines[1:] if line.split(",", 1)[0] in names)
    (folder / "manifest.csv").write_text(lines[0] + rows, encoding="utf-8")
    for name in names:
        (folder / name).write_bytes((panels / name).read_bytes())
    return folder
