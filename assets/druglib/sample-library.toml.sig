# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "79e6bbcefdd8250181dc9ff6ae7de8b0a6c57ae555046622df856246792d5a73af9493b2e57f9ee0b770f02cc0f6275e29e765813998b9d4a0b0eeb8f8638b0f"
