# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "9be69b04ff6fd4669dc90d778c9eaaa702a29fe351ad6423c790ffbda3129502dade6bf80165635fde8b8f8a4dc2e1f207fd8b79635fc0389700213db2ebef0c"
