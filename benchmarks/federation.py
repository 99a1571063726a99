"""A federation's process layout (docs/deploy.md) started on one machine, and a day of casework driven through it.

    scripts/with-postgres.sh --replica .venv/bin/python benchmarks/federation.py [--users 8] [--seconds 60]
    python benchmarks/federation.py --db URL --replica-url URL

Starts Redis, moto's S3 server, the migrations and the demo union, the processes in PROCESSES (two gunicorn
instances, one scheduler, the task workers in WORKERS), each with its own instance folder as on its own machine,
then Locust (headless) whose people alternate between the two web instances request by request: a worker files an
aid request with a document (object storage) and a proposal that is submitted (a step, its notices, the
scheduler's deadlines); staff sign in on one instance and read the dashboard and exports (the replica) on the other.
Prints each endpoint's requests, 5xx, other failures, p50 and p95; exits 1 on any 5xx.

Run by Locust (`locust -f` this file, as the layout does) the module defines the people instead.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FLASK = [str(BIN / "flask"), "--app", "wsgi"]
BUCKET = "casework-federation"
# Every person comes from 127.0.0.1 here: the sign-in budget is raised as for a works behind one NAT address.
LIMITS = {"CASEWORK_LIMIT_SIGN_IN": "100000 per minute", "CASEWORK_LIMIT_LOOKUP": "100000 per minute"}


@dataclass
class Process:
    name: str
    argv: list[str]
    ready: str = ""          # a line its log prints once it serves, or "" for "answers GET /healthz"
    port: int | None = None  # web instances: where they listen
    proc: subprocess.Popen | None = field(default=None, repr=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web(name: str) -> Process:
    port = free_port()
    return Process(name, [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "10",
                          "--timeout", "120", "wsgi:app"], port=port)


# The layout: what runs on each machine of docs/deploy.md.
WORKERS = 2  # task workers (`flask --app wsgi casework worker`) on the same Redis


def processes() -> list[Process]:
    return [web("web-1"), web("web-2"),
            Process("scheduler", FLASK + ["casework", "scheduler"], ready="waiting for the lease"),
            *(Process(f"worker-{n}", FLASK + ["casework", "worker", "--name", f"worker-{n}"], ready="Listening on")
              for n in range(1, WORKERS + 1))]


class Layout:
    """Redis, the S3 server and PROCESSES on the given primary and replica; `stop()` ends every one of them."""

    def __init__(self, database_url: str, replica_url: str, folder: Path):
        self.database_url, self.replica_url, self.folder = database_url, replica_url, folder
        self.services: list[subprocess.Popen] = []
        self.procs = processes()
        self.logs = []

    @property
    def hosts(self) -> list[str]:
        return [f"http://127.0.0.1:{p.port}" for p in self.procs if p.port]

    def _spawn(self, name: str, argv: list[str], env=None) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        self.logs.append(log)
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def _wait(self, what: str, ready, proc: subprocess.Popen, within: float = 180):
        deadline = time.monotonic() + within
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start:\n{self.log(what)[-3000:]}")
            time.sleep(0.2)

    def start(self):
        self.redis_port, self.s3_port = free_port(), free_port()
        redis = self._spawn("redis", [shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port),
                                      "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", "",
                                      "--appendonly", "no"])
        self.services.append(redis)
        moto = self._spawn("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)])
        self.services.append(moto)
        self._wait("redis", lambda: "Ready to accept connections" in self.log("redis"), redis)
        self._wait("s3", lambda: _answers(f"http://127.0.0.1:{self.s3_port}/"), moto)
        env = self.env("setup")
        import boto3
        boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id="federation",
                     aws_secret_access_key="federation", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        for step in (["db", "upgrade"], ["casework", "demo"]):
            subprocess.run(FLASK + step, cwd=ROOT, env=env, check=True, capture_output=True)
        for p in self.procs:
            p.proc = self._spawn(p.name, p.argv, self.env(p.name))
        for p in self.procs:
            if p.port:
                self._wait(p.name, lambda p=p: _answers(f"http://127.0.0.1:{p.port}/healthz"), p.proc)
            else:
                self._wait(p.name, lambda p=p: p.ready in self.log(p.name), p.proc)
        return self

    def env(self, name: str) -> dict:
        """What every process of the layout is given (docs/deploy.md); its instance folder is its own."""
        return {**os.environ, **LIMITS,
                "CASEWORK_DATABASE_URL": self.database_url, "CASEWORK_REPLICA_URL": self.replica_url,
                "CASEWORK_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "CASEWORK_STORAGE_URL": f"s3://{BUCKET}/files",
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}", "AWS_ACCESS_KEY_ID": "federation",
                "AWS_SECRET_ACCESS_KEY": "federation", "AWS_DEFAULT_REGION": "us-east-1",
                "CASEWORK_SECRET_KEY": "one-key-for-every-machine-of-the-federation",
                "CASEWORK_PUBLIC_URL": "https://casework.example.org",
                "CASEWORK_INSTANCE": str(self.folder / f"instance-{name}")}

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to each process (then the services); their exit codes, None where one had to be killed."""
        codes = {}
        for p in self.procs:
            if p.proc is not None and p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
        for p in self.procs:
            if p.proc is not None:
                try:
                    codes[p.name] = p.proc.wait(30)
                except subprocess.TimeoutExpired:
                    p.proc.kill()
                    p.proc.wait()
                    codes[p.name] = None
        for s in self.services:
            if s.poll() is None:
                s.terminate()
            try:
                s.wait(30)
            except subprocess.TimeoutExpired:
                s.kill()
                s.wait()
        for log in self.logs:
            log.close()
        return codes


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answers, if not with 200
    except OSError:
        return False


def drive(hosts: list[str], folder: Path, users: int, seconds: int) -> dict:
    """Locust against the hosts; the tally of every request by endpoint (see the people below)."""
    from casework.privacy.consent import CURRENT
    out = folder / "tally.json"
    env = {**os.environ, "CASEWORK_FEDERATION_HOSTS": ",".join(hosts), "CASEWORK_FEDERATION_TALLY": str(out),
           "CASEWORK_FEDERATION_CONSENT": str(CURRENT)}
    run = subprocess.run([str(BIN / "locust"), "-f", __file__, "--headless", "-u", str(users), "-r", str(users),
                          "--run-time", f"{seconds}s", "--stop-timeout", "30", "--host", hosts[0],
                          "--only-summary", "--exit-code-on-error", "0"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 300)
    if run.returncode != 0 or not out.exists():
        raise RuntimeError(f"locust failed ({run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return json.loads(out.read_text())


def print_batch(hosts: list[str], database_url: str, within: float = 300) -> dict:
    """Staff start a batch of the demo's notices on one web instance and follow it on the other until a task
    worker has printed it: the job's last status and the PDF's page count beside the notices asked for."""
    import requests
    import sqlalchemy as sa
    from pypdf import PdfReader
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT n.kind, c.number FROM notices n JOIN cases c ON c.id = n.case_id "
            "WHERE n.superseded_by_id IS NULL AND n.kind = 'aid_approval' ORDER BY c.id")).all()
    engine.dispose()
    numbers = [number for _kind, number in rows]
    web = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(hosts[0] + "/login").text).group(1)
    web.post(hosts[0] + "/login", data={"csrf_token": token, "login": "staff1", "password": "demo-password"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(hosts[0] + "/notices/batches").text).group(1)
    started = web.post(hosts[0] + "/notices/batches", data={"csrf_token": token, "kind": "aid_approval",
                                                            "cases": "\n".join(numbers)}, allow_redirects=False)
    page = started.headers["Location"]
    deadline = time.monotonic() + within
    while (status := web.get(hosts[1] + page + ".json").json())["status"] not in ("done", "failed"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)  # polling the job's row: it changes as the worker prints
    pdf = web.get(hosts[1] + page + ".pdf")
    pages = len(PdfReader(io.BytesIO(pdf.content)).pages) if pdf.status_code == 200 else 0
    return {"asked": len(numbers), "status": status, "pages": pages}


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0.0


def report(tally: dict) -> str:
    lines = [f"{'endpoint':52} {'requests':>8} {'5xx':>5} {'failed':>6} {'p50 ms':>8} {'p95 ms':>8}"]
    everything = []
    for name in sorted(tally):
        t = tally[name]
        everything += t["ms"]
        lines.append(f"{name:52} {len(t['ms']):8} {t['5xx']:5} {t['failed']:6} {percentile(t['ms'], 50):8.0f} "
                     f"{percentile(t['ms'], 95):8.0f}")
    lines.append(f"{'all':52} {len(everything):8} {sum(t['5xx'] for t in tally.values()):5} "
                 f"{sum(t['failed'] for t in tally.values()):6} {percentile(everything, 50):8.0f} "
                 f"{percentile(everything, 95):8.0f}")
    return "\n".join(lines)


def main():
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=os.environ.get("CASEWORK_TEST_DATABASE_URL", ""), help="the primary (a server)")
    p.add_argument("--replica-url", default=os.environ.get("CASEWORK_TEST_REPLICA_URL", ""),
                   help="its streaming replica")
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--seconds", type=int, default=60)
    opts = p.parse_args()
    if not opts.db.startswith("postgresql") or not opts.replica_url:
        sys.exit("federation: needs a PostgreSQL primary and replica: "
                 "scripts/with-postgres.sh --replica .venv/bin/python benchmarks/federation.py")
    sys.path.insert(0, str(ROOT))
    from tests.databases import new_database
    import sqlalchemy as sa
    folder = Path(tempfile.mkdtemp(prefix="casework-federation-"))
    primary = new_database(opts.db, folder, "federation", force=True)
    replica = sa.engine.make_url(opts.replica_url).set(database=sa.engine.make_url(primary).database)
    layout = Layout(primary, replica.render_as_string(hide_password=False), folder)
    try:
        layout.start()
        tally = drive(layout.hosts, folder, opts.users, opts.seconds)
    finally:
        codes = layout.stop()
    print(report(tally))
    print("exit codes:", codes)
    sys.exit(1 if any(t["5xx"] for t in tally.values()) else 0)


# -- the people (when Locust runs this file) ------------------------------------------------------------------
if os.environ.get("CASEWORK_FEDERATION_HOSTS"):
    import itertools
    from collections import defaultdict

    from locust import HttpUser, between, events, task

    HOSTS = os.environ["CASEWORK_FEDERATION_HOSTS"].split(",")
    TALLY: dict = defaultdict(lambda: {"ms": [], "5xx": 0, "failed": 0})
    PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
    AID = {"category": "hardship", "amount_requested": "3000.00", "circumstances": "爱人重病，家庭收入微薄",
           "details": {"household_size": 4, "monthly_income": "2100.00", "cause": "爱人患病，子女上学"},
           "consent": {"version": os.environ["CASEWORK_FEDERATION_CONSENT"], "given_by": "self"}}
    STARTS = itertools.count()

    @events.request.add_listener
    def _count(request_type, name, response_time, response_length, response=None, exception=None, **_kw):
        t = TALLY[f"{request_type} {name}"]
        t["ms"].append(response_time)
        status = getattr(response, "status_code", 0) or 0
        t["5xx"] += status >= 500
        t["failed"] += exception is not None and status < 500

    @events.quitting.add_listener
    def _write(environment, **_kw):
        Path(os.environ["CASEWORK_FEDERATION_TALLY"]).write_text(json.dumps(TALLY))

    class Person(HttpUser):
        """Alternates between the web instances request by request, as behind a round-robin proxy."""
        abstract = True
        wait_time = between(0.5, 2)
        username = ""

        def on_start(self):
            first = next(STARTS) % len(HOSTS)
            self.hosts = itertools.cycle(HOSTS[first:] + HOSTS[:first])
            r = self.call("POST", "/api/v1/tokens", json={"username": self.username, "password": "demo-password"})
            self.headers = {"Authorization": f"Bearer {r.json()['token']}"}

        def call(self, method: str, path: str, name: str | None = None, expect=(200, 201), **kw):
            with self.client.request(method, next(self.hosts) + path, name=name or path, catch_response=True,
                                     **kw) as r:
                if r.status_code not in expect:
                    r.failure(f"{r.status_code}: {r.text[:200]}")
                else:
                    r.success()
            return r

        def api(self, method, path, name=None, **kw):
            return self.call(method, path, name, headers=self.headers, **kw)

    class Worker(Person):
        """Files an aid request with a document, and a proposal it submits; reads its cases and its queue."""
        weight = 3
        username = "worker1"

        @task(2)
        def aid_with_a_document(self):
            case = self.api("POST", "/api/v1/cases/aid", json=AID).json()
            path = f"/api/v1/cases/aid/{case['id']}"
            att = self.api("POST", path + "/attachments", name="/api/v1/cases/aid/[id]/attachments",
                           data={"doc_type": "income_proof"},
                           files={"file": ("收入证明.pdf", PDF, "application/pdf")}).json()
            got = self.api("GET", f"/api/v1/attachments/{att['id']}", name="/api/v1/attachments/[id]")
            if got.content != PDF:
                raise AssertionError("the document came back changed")
            self.api("GET", path, name="/api/v1/cases/aid/[id]")

        @task(2)
        def proposal_submitted(self):
            case = self.api("POST", "/api/v1/cases/proposal",
                            json={"title": "改进冲压车间排班", "problem": "夜班交接时间过长",
                                  "suggestion": "交接单电子化"}).json()
            self.api("POST", f"/api/v1/cases/proposal/{case['id']}/transitions/submit",
                     name="/api/v1/cases/proposal/[id]/transitions/submit", json={"version": case["version"]})

        @task(1)
        def reads(self):
            self.api("GET", "/api/v1/cases/proposal")
            self.api("GET", "/api/v1/queue")
            self.api("GET", "/api/v1/notifications")

    class Staff(Person):
        """Signs in on the web on one instance and reads the dashboard and exports through the other."""
        weight = 1
        username = "staff1"

        def on_start(self):
            super().on_start()
            page = self.call("GET", "/login")
            token = CSRF.search(page.text).group(1)
            self.call("POST", "/login", data={"csrf_token": token, "login": self.username,
                                              "password": "demo-password"}, expect=(200, 302))

        @task(2)
        def dashboard(self):
            self.call("GET", "/stats")
            self.api("GET", "/api/v1/stats")

        @task(1)
        def exports(self):
            self.call("GET", "/export/cases.csv")
            self.call("GET", "/stats/export/cases.csv")

        @task(2)
        def work(self):
            self.call("GET", "/")
            self.api("GET", "/api/v1/queue")
            self.call("GET", "/healthz")


if __name__ == "__main__":
    main()
