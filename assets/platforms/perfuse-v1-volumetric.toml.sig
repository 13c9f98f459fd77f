# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "645ea71de5b80b079ab7597514525bda933d941b4c6e58eefec7598d9a4f2483750175295e29ee972abc2bbd6c22a21ae1edfe294d9617bb0eb07de9bfc1b10d"
