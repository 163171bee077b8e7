"""Helpers shared by the tests (no fixtures: those are in conftest.py)."""

from __future__ import annotations


class Callbacks:
    """Bodies of ``POST /_dash-update-component``, shaped as the Dash renderer sends them."""

    def __init__(self, dependencies: list[dict]):
        self.outputs = {}
        for dep in dependencies:
            if dep.get("clientside_function"):
                continue
            self.outputs[tuple(f"{o['id']}.{o['property']}" for o in self.split(dep["output"]))] = (
                dep["output"]
            )

    @staticmethod
    def split(output: str) -> list[dict]:
        """``..a.x...b.y@hash..`` -> [{"id": "a", "property": "x"}, {"id": "b", ...}]."""
        parts = output[2:-2].split("...") if output.startswith("..") else [output]
        return [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
            for part in parts
        ]

    def body(self, outs: tuple, inputs: list, state: list = (), changed=None) -> dict:
        """The request of the callback with outputs ``outs`` ("id.property", ...)."""
        output = self.outputs[outs]
        outputs = self.split(output)
        inputs = [{"id": i, "property": p, "value": v} for i, p, v in inputs]
        first = inputs[0]
        trigger = changed or f"{first['id']}.{first['property']}"
        return {
            "output": output,
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs,
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [trigger],
        }
