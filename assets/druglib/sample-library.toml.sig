# Detached Ed25519 signature over the exact bytes of the drug library file.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "a9c2a6f14291edf9c0d965f2e198dd751f585ec87693949280c23ec23958aebedcdd6963f41f6c521b5614fc4fa1fe9ebca514dae7915cfa1e73fd8d97ccea01"
