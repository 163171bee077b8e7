"""The server's comparison route: ``GET /compare/<A>/<B>.json[?pair=a1:b1,a2:b2]``.

The runs are looked up in the app's store catalog by name, never opened as a path: an
unknown run is a 404 with one line of text; runs of different samples, or a pairing
naming a layer a run has not, a 409 with ``{"error": "<the one-line reason>"}``. The
body is :func:`fracdash.web.compare_data.comparison_json` (the orders' measures only:
no model is loaded).
"""

from __future__ import annotations

from fracdash.errors import CompareError, RunError
from fracdash.web.callbacks.guard import run_or_none, unknown_run
from fracdash.web.compare_data import comparison, comparison_json
from fracdash.web.loading import run_key


def register_compare_routes(server, context) -> None:
    """Add ``/compare/<A>/<B>.json`` to the Flask ``server`` of the app whose state is
    ``context`` (:class:`~fracdash.web.context.AppContext`)."""
    from flask import Response, jsonify, request

    def compare(run_a, run_b):
        for run in (run_a, run_b):
            if run_or_none(run) is None or run_key(context.store, run) is None:
                return Response(unknown_run(run) + "\n", status=404, mimetype="text/plain")
        try:
            found = comparison(context.store, run_a, run_b, request.args.get("pair"))
        except RunError as err:  # deleted since the catalog was read
            return Response(f"{err}\n", status=404, mimetype="text/plain")
        except CompareError as err:
            response = jsonify({"error": str(err)})
            response.status_code = 409
            return response
        response = jsonify(comparison_json(found))
        # A run may be replaced under the same name: never serve an older comparison.
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule(
        "/compare/<run_a>/<run_b>.json", endpoint="fracdash_compare", view_func=compare
    )
