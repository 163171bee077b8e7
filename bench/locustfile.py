"""The dashboard's load, for locust: what one browser on the page asks of the server.

Run by ``bench/loadtest.py`` (``make loadtest``), which starts gunicorn on the store and
passes ``--host`` and ``--runs``; by hand, against a server already running here::

    locust -f bench/locustfile.py --headless -u 20 -r 20 --run-time 60s \\
        --host http://127.0.0.1:8050 --runs easy,generalization

Loopback only: a ``--host`` other than http://127.0.0.1 or localhost is refused. Each
user loops without pause over ``GET /``, ``GET /_dash-layout`` and the page's six server
callbacks (select a run, draw the graph, the charts, the legend, the run list, the
zoom on a glyph) on a run drawn from ``--runs``, both colorings and the simplified view
drawn too (recoloring and class focus run in the browser). The callback bodies are
built from the server's own ``/_dash-dependencies``, shaped as the Dash renderer sends
them. A failure is a status other than 200 or an answer without the expected content.
"""

from __future__ import annotations

import itertools
import json
import random
import urllib.parse
import urllib.request

from locust import FastHttpUser, constant, events, task

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
UPDATE = "/_dash-update-component"
#: The six server callbacks, by the outputs ("id.property") of each.
CALLBACKS = {
    "select_run": ("run.data", "compute.data", "progress.children"),
    "render_dag": ("dag.children", "glyph-variants.data", "partial-shown.data"),
    "render_charts": ("confusion.figure", "quality-chart.figure"),
    "render_legend": ("legend.children", "note.children"),
    "refresh_options": ("scenario.options", "jobs-tick.disabled"),
    "toggle_zoom": ("glyph-zoom-body.children", "glyph-zoom.hidden"),
}
DEPENDENCIES: dict[str, dict] = {}  # callback name -> its entry in /_dash-dependencies
RUNS: list[str] = []
LAYERS: dict[str, list[str]] = {}  # run -> its layers, learned from render_dag answers
SEEDS = itertools.count()


def split(output: str) -> list[dict]:
    """``..a.x...b.y@hash..`` -> [{"id": "a", "property": "x"}, {"id": "b", ...}]."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
        for part in parts
    ]


def key(spec: dict) -> str:
    """``id.property``; a pattern-matching id (``{"layer": [ALL], "type": "glyph"}``) by its
    type."""
    ident = spec["id"]
    if ident.startswith("{"):
        ident = json.loads(ident)["type"]
    return f"{ident}.{spec['property']}"


def body(name: str, values: dict, changed: str | None = None) -> dict:
    """The request of callback ``name``; ``values`` maps every input and state
    ("id.property") to its value: a list of items for a pattern-matching input."""
    dep = DEPENDENCIES[name]
    outputs = split(dep["output"])

    def items(specs):
        return [
            values[key(s)]
            if s["id"].startswith("{")
            else {"id": s["id"], "property": s["property"], "value": values[key(s)]}
            for s in specs
        ]

    return {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": items(dep["inputs"]),
        "state": items(dep.get("state", [])),
        "changedPropIds": [changed or key(dep["inputs"][0])],
    }


@events.init_command_line_parser.add_listener
def _(parser):
    parser.add_argument("--runs", default="", help="runs to open, comma-separated (required)")


@events.init.add_listener
def _(environment, **kwargs):
    """Refuse a host off this machine; read the callbacks the server registered."""
    host = environment.host or ""
    parts = urllib.parse.urlsplit(host)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise SystemExit(f"locustfile: refusing --host {host!r}: only http://127.0.0.1, localhost")
    RUNS[:] = [r for r in environment.parsed_options.runs.split(",") if r]
    if not RUNS:
        raise SystemExit("locustfile: --runs is required (run names, comma-separated)")
    with urllib.request.urlopen(host.rstrip("/") + "/_dash-dependencies", timeout=30) as r:
        deps = [d for d in json.loads(r.read()) if not d.get("clientside_function")]
    served = {}
    # Callbacks sharing outputs (allow_duplicate: "id.prop@hash") come after the one that
    # owns them: the owner is the callback named here.
    for dep in sorted(deps, key=lambda d: "@" in d["output"]):
        served.setdefault(tuple(f"{o['id']}.{o['property']}" for o in split(dep["output"])), dep)
    missing = [name for name, outs in CALLBACKS.items() if outs not in served]
    if missing:
        raise SystemExit(f"locustfile: the server has no callback {', '.join(missing)}")
    DEPENDENCIES.update({name: served[outs] for name, outs in CALLBACKS.items()})


class Browser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 120.0  # as gunicorn's --timeout
    connection_timeout = 30.0

    def on_start(self):
        self.rng = random.Random(next(SEEDS))

    def call(self, name: str, request: dict, check) -> dict | None:
        with self.client.post(UPDATE, json=request, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return None
            try:
                answer = r.json()
                ok = check(answer["response"])
            except (ValueError, KeyError, TypeError) as err:
                r.failure(f"unexpected answer: {type(err).__name__}: {err}")
                return None
            if not ok:
                r.failure("unexpected answer")
                return None
            r.success()
            return answer["response"]

    def get(self, path: str) -> None:
        with self.client.get(path, name=f"GET {path}", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            else:
                r.success()

    @task
    def visit(self):
        rng = self.rng
        run = rng.choice(RUNS)
        simplify = rng.choice([[], ["on"]])
        coloring = rng.choice(["absolute", "relative"])
        view = {"run.data": run, "simplify.value": simplify, "coloring.value": coloring,
                "computed.data": None, "jobs-tick.n_intervals": None, "compute.data": None,
                "partial-shown.data": None, "partial-tick.data": None,
                "curve.value": rng.choice(["compact", "paper"]),
                "quality-measure.value": "quality"}  # fmt: skip
        self.get("/")
        self.get("/_dash-layout")
        self.get(f"/samples/{run}.json")  # the page's one fetch of the run's sample data
        self.call("select_run", body("select_run", {"scenario.value": run, "compute.data": None}),
                  lambda a: a["run"]["data"] == run)  # fmt: skip
        dag = self.call("render_dag", body("render_dag", view),
                        lambda a: isinstance(a["glyph-variants"]["data"], dict))  # fmt: skip
        if dag is not None and run not in LAYERS:
            LAYERS[run] = sorted(dag["glyph-variants"]["data"])
        self.call("render_charts", body("render_charts", view),
                  lambda a: "data" in a["confusion"]["figure"])  # fmt: skip
        self.call("render_legend", body("render_legend", view),
                  lambda a: len(a["legend"]["children"]) > 0)  # fmt: skip
        self.call(
            "refresh_options",
            body("refresh_options", view),
            lambda a: set(RUNS) <= {o["value"] for o in a["scenario"]["options"]},
        )
        if LAYERS.get(run):
            layer = rng.choice(LAYERS[run])
            glyph = {"layer": layer, "type": "glyph-name"}
            # The pattern-matching input: the list of the matching names, one clicked.
            clicks = [{"id": glyph, "property": "n_clicks", "value": 1}]
            values = {**view, "glyph-name.n_clicks": clicks, "glyph-zoom-close.n_clicks": 0}
            changed = json.dumps(glyph, separators=(",", ":")) + ".n_clicks"
            self.call("toggle_zoom", body("toggle_zoom", values, changed),
                      lambda a: a["glyph-zoom"]["hidden"] is False)  # fmt: skip
