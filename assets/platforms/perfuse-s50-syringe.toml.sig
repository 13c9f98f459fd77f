# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "b4ab3c20f60052618e21006c5787ed8760d3a547179d3eb88e65dc9216b65023fda4d0e986d95629f31c3999020366c65ad64ff1d25d9788d57a6e2b64ba1a00"
