# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "a2a7804aa4e23c15ff8d6a1ece819a4d2068105abb1f3ce56cb94ef71832f1706533923872e729d208c7bdf07c75e14e9abc0f75bbe4be213ddcea86acd7f80f"
