"""python-kasa's toggle of one SMART/KLAP device: a long-lived bench peer driven over stdin.

Started with one argument, JSON {host, port, username, password}. Then reads one JSON command a
line: {"mode": "warm"|"cold", "n": N} toggles N times and prints one JSON line
{"times": [ms, ...], "cpu": ms}: each toggle's wall time and the process's CPU time for the
round, both measured here (monotonic clocks), so start-up and the pipe are not in them.
{"quit": true} ends it.

A toggle is the same work ours does: read the relay (get_device_info), then set it the other way
(set_device_info), through python-kasa's SmartProtocol over its KlapTransportV2. "warm" keeps one
protocol across rounds (session established); "cold" builds a new protocol per toggle (handshake
included) and closes it after the toggle, outside the timing.
"""
import asyncio
import json
import sys
import time

from kasa import Credentials, DeviceConfig
from kasa.deviceconfig import DeviceConnectionParameters, DeviceEncryptionType, DeviceFamily
from kasa.device_factory import get_protocol

args = json.loads(sys.argv[1])
config = DeviceConfig(
    host=args["host"],
    port_override=args["port"],
    credentials=Credentials(args["username"], args["password"]),
    connection_type=DeviceConnectionParameters(DeviceFamily.SmartTapoPlug, DeviceEncryptionType.Klap, login_version=2),
)


async def toggle(protocol) -> None:
    info = await protocol.query("get_device_info")
    on = info["get_device_info"]["device_on"]
    await protocol.query({"set_device_info": {"device_on": not on}})


async def run_round(mode: str, n: int, warm: dict) -> dict:
    times = []
    cpu0 = time.process_time()
    for _ in range(n):
        if mode == "warm":
            protocol = warm.get("protocol") or warm.setdefault("protocol", get_protocol(config))
        else:
            protocol = get_protocol(config)
        t0 = time.perf_counter()
        await toggle(protocol)
        times.append((time.perf_counter() - t0) * 1000)
        if mode != "warm":
            await protocol.close()
    return {"times": times, "cpu": (time.process_time() - cpu0) * 1000}


async def main() -> None:
    loop = asyncio.get_running_loop()
    warm: dict = {}
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        if command.get("quit"):
            break
        result = await run_round(command["mode"], command["n"], warm)
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    if "protocol" in warm:
        await warm["protocol"].close()


asyncio.run(main())
