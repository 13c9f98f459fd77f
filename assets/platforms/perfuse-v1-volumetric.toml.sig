# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "33ba9dde2dce04cffd800f607afb0db28118009f9f0cf319745f22c4b3732353955e43bf41e2f2f32aabf88f3c4f4abdbc204974f491b77982597439b7108900"
