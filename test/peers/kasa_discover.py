"""python-kasa's discovery against a TDP responder on 127.0.0.1 (its port stands in for 20002).

Input (stdin JSON): {port, username, password}. For every device found, python-kasa connects
(KLAP or AES, on the http_port the answer names), updates it, and we print what it saw.
"""
import asyncio
import json
import sys

from kasa import Credentials, Discover

args = json.load(sys.stdin)


async def main() -> None:
    # The responder cannot bind 20002 in a test: point python-kasa's TDP ports at it.
    Discover.DISCOVERY_PORT_2 = args["port"]
    Discover.DISCOVERY_PORT_3 = args["port"]
    found = await Discover.discover(
        target="127.0.0.1",
        discovery_timeout=2,
        credentials=Credentials(args["username"], args["password"]),
    )
    out = []
    for ip, dev in found.items():
        try:
            await dev.update()
        except Exception as err:  # noqa: BLE001 - reported to the test, which asserts on it
            out.append({"ip": ip, "port": dev.port, "error": f"{type(err).__name__}: {err}"})
            await dev.disconnect()
            continue
        out.append({
            "ip": ip,
            "port": dev.port,
            "model": dev.model,
            "alias": dev.alias,
            "is_on": dev.is_on,
            "encrypt_type": dev.config.connection_type.encryption_type.value,
            "family": dev.config.connection_type.device_family.value,
        })
        await dev.disconnect()
    json.dump(out, sys.stdout)


asyncio.run(main())
