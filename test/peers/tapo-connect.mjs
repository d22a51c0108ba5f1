// tp-link-tapo-connect (npm, an independent SMART client) against one device at 127.0.0.1:PORT.
// Reads {address, username, password} as JSON from stdin; prints {before, after} device_on states.
// Run with `node --security-revert=CVE-2023-46809` so its AES path can decrypt RSA PKCS#1 v1.5.
import tapo from 'tp-link-tapo-connect';

const { loginDeviceByIp } = tapo;

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const { address, username, password } = JSON.parse(input);
  const device = await loginDeviceByIp(username, password, address);
  const before = await device.getDeviceInfo();
  await device.turnOn();
  const after = await device.getDeviceInfo();
  process.stdout.write(JSON.stringify({ before: before.device_on, after: after.device_on, model: after.model, nickname: after.nickname }));
});
