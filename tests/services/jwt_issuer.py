#!/usr/bin/python3
"""An external OIDC issuer's signing side, for tests of platctl serve's external tokens.

Usage:
    jwt_issuer.py keys DIR                    an RSA-2048 key (DIR/key.pem) and its JWKS
                                              (DIR/jwks.json, kid "k1")
    jwt_issuer.py sign DIR CLAIMS_JSON [ALG] [KID]
                                              a JWT with CLAIMS_JSON, signed RS256 by the key
                                              (ALG "HS256" signs with the JWKS's modulus as an
                                              HMAC secret, the classic key-confusion forgery;
                                              "none" leaves it unsigned); KID defaults to k1

Claims may use "exp": "+N" / "-N" for now plus or minus N seconds (iat is set to now).
Debian's python3 (python3-cryptography); no network.
"""

import base64
import hashlib
import hmac
import json
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def keys(d):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(f"{d}/key.pem", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    pub = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": b64url(uint(pub.n)),
                      "e": b64url(uint(pub.e))}]}
    with open(f"{d}/jwks.json", "w") as f:
        json.dump(jwks, f)


def sign(d, claims, alg="RS256", kid="k1"):
    now = int(time.time())
    claims = json.loads(claims)
    for k in ("exp", "nbf"):
        if isinstance(claims.get(k), str) and claims[k][:1] in "+-":
            claims[k] = now + int(claims[k])
    claims.setdefault("iat", now)
    header = {"alg": alg, "typ": "at+jwt", "kid": kid}
    signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    if alg == "none":
        sig = b""
    elif alg == "HS256":
        secret = json.load(open(f"{d}/jwks.json"))["keys"][0]["n"].encode()
        sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    else:
        key = serialization.load_pem_private_key(open(f"{d}/key.pem", "rb").read(), password=None)
        sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    print(signing_input.decode() + "." + b64url(sig))


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        keys(sys.argv[2])
    elif sys.argv[1] == "sign":
        sign(sys.argv[2], sys.argv[3], *sys.argv[4:6])
    else:
        raise SystemExit(__doc__)
