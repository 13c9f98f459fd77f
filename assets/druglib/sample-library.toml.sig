# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "94aba998c05de5cb4d8789eb67864b2de183c96505ed5a8cab738c0f98c7c7b913e3cf597681610980fb6663dd8cf3ea4d58f93b55800a79aa7d1c98f53a9400"
