"""One module per benchmark; each has `run(ctx, res)` that adds its results to `res`.

BENCHES is the order `all` runs them in (and the subcommand names); PREFLIGHTS, the checks
run before any benchmark so that a missing tool or limit stops the run at once.
"""

from . import cluster, coldstart, crash, forkreload, idle, logs, nodeapi, rss, scaling, start
from . import list as list_latency

BENCHES = {"list": list_latency.run, "start": start.run, "coldstart": coldstart.run,
           "rss": rss.run,
           "crash": crash.run, "logs": logs.run, "cluster": cluster.run,
           "idle": idle.run, "nodeapi": nodeapi.run, "scaling": scaling.run,
           "reload": forkreload.run}
PREFLIGHTS = {"scaling": scaling.preflight}
