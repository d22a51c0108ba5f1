"""Computes KLAP and AES values with python-kasa's own classes for inputs read from stdin (JSON).

A test peer: our TypeScript implementation is compared against what python-kasa computes at test
time, so no value is copied by hand. Input: {username, password, local, remote, message, seqs,
aes_key, aes_iv, rsa_private_der, rsa_encrypted} (bytes as hex). Output: JSON, bytes as hex.
"""
import base64
import json
import sys

from kasa.credentials import Credentials
from kasa.transports.aestransport import AesEncyptionSession, AesTransport, KeyPair
from kasa.transports.klaptransport import KlapEncryptionSession, KlapTransport, KlapTransportV2

args = json.load(sys.stdin)
creds = Credentials(args["username"], args["password"])
local = bytes.fromhex(args["local"])
remote = bytes.fromhex(args["remote"])
message = args["message"]
out = {}

for name, cls in (("v1", KlapTransport), ("v2", KlapTransportV2)):
    auth = cls.generate_auth_hash(creds)
    session = KlapEncryptionSession(local, remote, auth)
    requests = []
    for _ in range(args["requests"]):
        body, seq = session.encrypt(message)
        requests.append({"seq": seq, "body": body.hex(), "decrypted": session.decrypt(body)})
    out[name] = {
        "auth": auth.hex(),
        "server_hash": cls.handshake1_seed_auth_hash(local, remote, auth).hex(),
        "client_hash": cls.handshake2_seed_auth_hash(local, remote, auth).hex(),
        "requests": requests,
    }

aes = AesEncyptionSession(bytes.fromhex(args["aes_key"]), bytes.fromhex(args["aes_iv"]))
encrypted = aes.encrypt(message.encode()).decode()
out["aes"] = {
    "encrypted": encrypted,
    "decrypted": aes.decrypt(encrypted),
    "login_v1": dict(zip(("username", "password"), AesTransport.hash_credentials(False, creds))),
    "login_v2": dict(zip(("username", "password2"), AesTransport.hash_credentials(True, creds))),
}
if args.get("rsa_private_der"):
    # Our RSA-1024 key pair handed to python-kasa: it must recover the key+IV our server encrypted.
    keypair = KeyPair.create_from_der_keys(args["rsa_private_der"], args["rsa_public_der"])
    out["aes"]["rsa_decrypted"] = keypair.decrypt_handshake_key(base64.b64decode(args["rsa_encrypted"])).hex()
    out["aes"]["public_pem_b64"] = keypair.public_key_der_b64

json.dump(out, sys.stdout)
