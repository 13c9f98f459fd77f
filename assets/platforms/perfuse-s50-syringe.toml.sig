# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "7df0833092532544042fefafdc5f0db883908f64fe02ca6152813e0281e674f3488bdde73df04644e7b6b1b432aa9ae8a4c98038b98d9f744b46e782cefe5e02"
