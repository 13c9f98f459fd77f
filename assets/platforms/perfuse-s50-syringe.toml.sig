# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "f6f4c77a87abecc903f91ad987234071618e3d9275ea0235a6cca5091f2c85f1592a1a90975993ac19049c8e69cdecfbb62b64a6b7f503b94a5905659557a90a"
