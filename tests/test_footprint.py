"""The small profile fits beside k3s on a 2 vCPU / 4 GiB VM: requests at most 1000m CPU and 2 GiB."""

from __future__ import annotations

from tests.stack import SCENARIOS_DIR, Stack, synth_stack
from tools.footprint import footprint, scenario_objects


def _totals(stack: Stack) -> dict[str, int]:
    rows = footprint(stack.objects)
    return {
        key: sum(r[key] for name, r in rows.items() if "transient" not in name)
        for key in ("cpu_req_m", "mem_req_mib", "mem_lim_mib")
    }


def test_small_profile_requests_fit_a_small_vm(stack: Stack) -> None:
    totals = _totals(stack)
    assert totals["cpu_req_m"] <= 1000
    assert totals["mem_req_mib"] <= 2048


def test_production_profile_raises_every_request(stack: Stack) -> None:
    small, production = footprint(stack.objects), footprint(synth_stack({"profile": "production"}).objects)
    assert set(small) == set(production)
    for name in small:
        assert production[name]["cpu_req_m"] > small[name]["cpu_req_m"], name
        assert production[name]["mem_req_mib"] > small[name]["mem_req_mib"], name


def test_scenario_table_counts_every_replica() -> None:
    """``make footprint`` also prints each scenario; its rows multiply by the replicas and drop the PVC of
    a Grafana on an external database."""
    rows = footprint(scenario_objects(SCENARIOS_DIR / "ha.yaml"))
    assert {name: rows[name]["replicas"] for name in ("vault", "prometheus", "alertmanager", "grafana")} == {
        "vault": 3,
        "prometheus": 2,
        "alertmanager": 3,
        "grafana": 2,
    }
    assert rows["grafana"]["pvc_gib"] == 0
    single = footprint(synth_stack({"profile": "production"}).objects)
    assert rows["prometheus"]["cpu_req_m"] == 2 * single["prometheus"]["cpu_req_m"]
