"""One module per benchmark; each has `run(ctx, res)` that adds its results to `res`.

BENCHES is the order `all` runs them in (and the subcommand names).
"""

from . import cluster, coldstart, crash, idle, logs, nodeapi, rss, start
from . import list as list_latency

BENCHES = {"list": list_latency.run, "start": start.run, "coldstart": coldstart.run,
           "rss": rss.run,
           "crash": crash.run, "logs": logs.run, "cluster": cluster.run,
           "idle": idle.run, "nodeapi": nodeapi.run}
