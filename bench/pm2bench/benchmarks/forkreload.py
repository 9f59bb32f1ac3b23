"""`reload`: requests that fail while a fork-mode Python HTTP app is reloaded 3 times under a
client loop (a new connection per request), for three setups:

- `pm2-rs listen`: pm2-rs binds the port itself (`listen`) and passes it to every process
  of the app (fd 3, `LISTEN_FDS`); a reload starts the new process, then stops the old one,
  and clients wait in the backlog of the socket the daemon keeps open;
- `pm2-rs`: the same app binding its own port (`SELF_BIND_PORT`), no `listen`;
- `pm2`: PM2 7 with the same self-binding app (a fork-mode reload is a restart in PM2).

The app is the end-to-end tests' tests/e2e/fixtures/listen_app.py (stdlib `http.server`,
answers `pid=<pid>`, on SIGINT finishes the request in hand and exits).
"""

import json
import os
import statistics
import time

from ..common import REPO, log
from ..httpclient import ClientLoop, one_request, outcome_summary
from ..managers import Session
from .cluster import free_port

APP = os.path.join(REPO, "tests", "e2e", "fixtures", "listen_app.py")
#: `pm2 reload web` calls per run
RELOADS = 3
#: (result key, manager, daemon binds the port)
SETUPS = (("pm2", "pm2", False), ("pm2-rs listen", "pm2-rs", True),
          ("pm2-rs", "pm2-rs", False))
#: how long a reload may take until a new process answers
NEW_PROCESS_TIMEOUT = 20.0


def ecosystem(m, port, listen):
    """The app's ecosystem JSON: `listen` on the port, or the port in its environment."""
    app = {"name": "web", "script": APP, "interpreter": "python3"}
    if listen:
        app["listen"] = [f"127.0.0.1:{port}"]
    else:
        app["env"] = {"SELF_BIND_PORT": str(port)}
    eco = os.path.join(m.home, "web.config.json")
    with open(eco, "w") as f:
        json.dump({"apps": [app]}, f)
    return eco


def first_pid(port, timeout=30.0):
    """The pid of the first process that answers on `port`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pid = one_request(port, 1.0)[3]
        if pid is not None:
            return pid
        time.sleep(0.05)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port} after {timeout:.0f} s")


def wait_new_process(client, pids, timeout):
    """Poll the client's answers until a process not in `pids` answered; its pid or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pid = client.served_by_other_than(pids)
        if pid is not None:
            return pid
        time.sleep(0.01)
    return None


def reloads_under_load(m, port, gap):
    """The client loop while `web` is reloaded RELOADS times: (reloads, outcomes)."""
    pids = [first_pid(port)]
    client = ClientLoop(port).start()
    reloads = []
    try:
        time.sleep(1.0)  # load before the first reload
        for _ in range(RELOADS):
            t0 = time.time()
            rc = m.run("reload", "web", check=False, timeout=60).returncode
            cli_ms = (time.time() - t0) * 1000
            new = wait_new_process(client, pids, NEW_PROCESS_TIMEOUT)
            reloads.append({"rc": rc, "cli_ms": round(cli_ms, 1), "new_pid": new,
                            "new_answer_ms": round((time.time() - t0) * 1000, 1)})
            if new is not None:
                pids.append(new)
            time.sleep(gap)
    finally:
        outcomes = client.stop()
    return reloads, outcomes


def reload_session(ctx, label, listen):
    """One run of one setup, fresh daemon: start the app, reload it under load."""
    with Session(ctx, label) as m:
        port = free_port()
        m.run("ping")
        m.run("start", ecosystem(m, port, listen))
        m.wait_online(1)
        reloads, outcomes = reloads_under_load(m, port, ctx.args.reload_gap)
        m.run("delete", "all", check=False)
    return {"port": port, "reloads": reloads, **outcome_summary(outcomes),
            "_outcomes": outcomes}


def aggregate(runs):
    """Totals over the runs of one setup; latency percentiles over all their answers."""
    pooled = [o for r in runs for o in r.pop("_outcomes")]
    total = outcome_summary(pooled)
    # stretches do not span runs: sum each run's own
    total["outage_ms"] = sum(r["outage_ms"] for r in runs)
    total["longest_outage_ms"] = max(r["longest_outage_ms"] for r in runs)
    total["failed_per_run"] = [r["failed"] for r in runs]
    total["sent_per_run"] = [r["sent"] for r in runs]
    total["reload_cli_ms_median"] = statistics.median(
        x["cli_ms"] for r in runs for x in r["reloads"])
    total["runs"] = runs
    return total


def run(ctx, res):
    """Fills res["fork_reload"]: {setup key: totals}; setups alternate run by run."""
    raw = {}
    setups = [s for s in SETUPS if s[1] in ctx.labels]
    for run_no in range(ctx.args.fork_reload_runs):
        for key, label, listen in setups:
            r = reload_session(ctx, label, listen)
            raw.setdefault(key, []).append(r)
            log(f"[reload] run {run_no} {key}: {r['failed']} of {r['sent']} failed "
                f"{r['by_kind']}, no answer for {r['outage_ms']:.0f} ms, p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms, "
                f"{r['pids']} processes answered; reloads "
                f"{[x['cli_ms'] for x in r['reloads']]} ms")
    res["fork_reload"] = {key: aggregate(rs) for key, rs in raw.items()}
