"""python-kasa's toggle of one SMART/KLAP device, timed in one Python process (bench peer).

Input (stdin JSON): {host, port, username, password, n, warmup, mode: "warm"|"cold"}.
A toggle is the same work ours does: read the relay (get_device_info), then set it the other way
(set_device_info), through python-kasa's SmartProtocol over its KlapTransportV2. "warm" keeps one
protocol (session established); "cold" builds a new one per toggle (handshake included).
Prints a JSON list of milliseconds per toggle.
"""
import asyncio
import json
import sys
import time

from kasa import Credentials, DeviceConfig
from kasa.deviceconfig import DeviceConnectionParameters, DeviceEncryptionType, DeviceFamily
from kasa.device_factory import get_protocol

args = json.load(sys.stdin)
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


async def main() -> None:
    times = []
    warm = args["mode"] == "warm"
    shared = get_protocol(config) if warm else None
    for i in range(args["warmup"] + args["n"]):
        protocol = shared or get_protocol(config)
        t0 = time.perf_counter()
        await toggle(protocol)
        elapsed = (time.perf_counter() - t0) * 1000
        if not warm:
            await protocol.close()
        if i >= args["warmup"]:
            times.append(elapsed)
    if shared:
        await shared.close()
    json.dump(times, sys.stdout)


asyncio.run(main())
