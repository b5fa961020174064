"""The small profile fits beside k3s on a 2 vCPU / 4 GiB VM: requests at most 1000m CPU and 2 GiB."""

from __future__ import annotations

from tests.stack import Stack, synth_stack
from tools.footprint import footprint


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
